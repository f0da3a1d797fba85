"""Checks a tool runs on a config before any runner touches the work dir."""
import ast
import os.path as osp
import re

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


def read_config(path: str, field: str = 'config'):
    """``Config.fromfile(path)`` with errors that name the file.

    Args:
        path (str): The config file.
        field (str): What names the file, for messages.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        SyntaxError: The config or one of its ``_base_`` files does not
            parse; the message names that file and line (mmengine's says
            ``File "<unknown>"``).
    """
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{field} {path!r} does not exist; check the path (relative '
            'paths start at the directory you run the tool from).')
    try:
        return Config.fromfile(path)
    except SyntaxError as e:
        raise SyntaxError(_syntax_message(path, e)) from None


def _syntax_message(path: str, error: SyntaxError) -> str:
    """Find the file (``path`` or a ``_base_`` of it) that does not parse."""
    seen = set()
    todo = [osp.abspath(path)]
    while todo:
        name = todo.pop(0)
        if name in seen or not osp.isfile(name):
            continue
        seen.add(name)
        with open(name, encoding='utf-8') as f:
            text = f.read()
        try:
            ast.parse(text, filename=name)
        except SyntaxError as e:
            return (f'config file {name}, line {e.lineno}: {e.msg}; fix '
                    'the Python syntax there.')
        # _base_ = 'x.py' or ['x.py', ...]; mmpretrain:: bases parse fine
        for base in re.findall(r"['\"]([^'\"]+\.py)['\"]", text):
            if '::' not in base:
                todo.append(osp.join(osp.dirname(name), base))
    return (f'config file {path}: {error.msg} (line {error.lineno}); fix '
            'the Python syntax there.')
