"""Checks a tool runs on a config before any runner touches the work dir."""
import os.path as osp

# mmpretrain datasets that fetch their files when ``download=True``.
DOWNLOADING_DATASETS = ('CIFAR10', 'CIFAR100', 'MNIST', 'FashionMNIST')


def check_data_paths(cfg) -> None:
    """Raise if a dataloader's data root or file is missing.

    Args:
        cfg (Config): A training or test config.

    Raises:
        FileNotFoundError: Naming the field, the path and how to fix it.
    """
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        if not dataset:
            continue
        dtype = str(dataset.get('type', ''))
        if dtype.split('.')[-1] in DOWNLOADING_DATASETS and dataset.get(
                'download', True):
            continue
        for key in ('data_root', 'data_file', 'ann_file'):
            path = dataset.get(key)
            if not path or not isinstance(path, str):
                continue
            if key == 'ann_file' and dataset.get('data_root'):
                path = osp.join(dataset['data_root'], path)
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'{loader}.dataset.{key}={path!r} does not exist; put the '
                    'data there or pass --cfg-options '
                    f'{loader}.dataset.{key}=YOUR_PATH.')
