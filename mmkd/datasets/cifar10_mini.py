"""A small real CIFAR-10 subset that ships inside the package."""
import os.path as osp
from typing import List, Optional, Sequence

import mmcv
import numpy as np
from mmpretrain.datasets import BaseDataset

from mmkd.registry import DATASETS

BUNDLED_FILE = osp.join(osp.dirname(osp.abspath(__file__)), 'data',
                        'cifar10_mini.npz')
REBUILD_COMMAND = 'python tools/dataset_converters/make_cifar10_mini.py'


def class_balanced_order(labels: Sequence[int]) -> List[int]:
    """Indices of ``labels`` taken round robin over the classes (each class
    in stored order), so that any prefix holds every class equally, give
    or take one image.

    Examples:
        >>> class_balanced_order([0, 0, 0, 1, 1, 2])
        [0, 3, 5, 1, 4, 2]
    """
    by_class = {}
    for index, label in enumerate(labels):
        by_class.setdefault(int(label), []).append(index)
    queues = [by_class[c] for c in sorted(by_class)]
    order = []
    for rank in range(max((len(q) for q in queues), default=0)):
        order.extend(q[rank] for q in queues if rank < len(q))
    return order


@DATASETS.register_module()
class CIFAR10Mini(BaseDataset):
    """The CIFAR-10 subset bundled with mmkd, for offline demos and tests.

    ``mmkd/datasets/data/cifar10_mini.npz`` holds the first 500 train and the
    first 300 test images of every class (by file name) of the JPEG copy of
    CIFAR-10 (Krizhevsky, 2009): 5,000 train and 3,000 test images, 32x32.
    The file stores them sorted by class; an integer ``indices=N`` (the
    shortcut for smoke runs) takes ``N`` images round robin over the classes
    (:func:`class_balanced_order`), so it holds every class equally, and so
    does any prefix of it. A list of indices keeps its stored meaning.
    See ``mmkd/datasets/data/README.md`` for the provenance and
    ``tools/dataset_converters/make_cifar10_mini.py`` for the rebuild.

    Every JPEG is decoded once, at load time, with :func:`mmcv.imfrombytes`
    into a uint8 HxWx3 array in **BGR** order, as mmpretrain's
    ``LoadImageFromFile`` would decode the same file. A data info is
    ``dict(img=array, img_shape=(32, 32), ori_shape=(32, 32), gt_label=int,
    img_path=name)`` where ``name`` is the source member, e.g.
    ``'train/cat/0003.jpg'``. So the pipeline starts with no
    ``LoadImageFromFile``, and the model's ``data_preprocessor`` takes
    ``to_rgb=True``, just as for a folder dataset of the same images.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        data_file (str, optional): The ``.npz`` file to read. Defaults to
            None, the file bundled with the package.
        pipeline (Sequence): Transforms (configs or callables) applied to
            every data info. Defaults to ``()``.
        test_mode (bool): Whether the dataset is used for evaluation.
            Defaults to False.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`,
            e.g. ``indices``, ``metainfo``, ``lazy_init``.

    Examples:
        >>> from mmkd.datasets import CIFAR10Mini
        >>> pipeline = [
        ...     dict(type='RandomCrop', crop_size=32, padding=4),
        ...     dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        ...     dict(type='PackInputs'),
        ... ]
        >>> dataset = CIFAR10Mini(split='train', pipeline=pipeline)
        >>> len(dataset), dataset.metainfo['classes'][3]
        (5000, 'cat')
        >>> dataset[0]['inputs'].shape
        torch.Size([3, 32, 32])
    """

    METAINFO = {
        'classes': ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                    'frog', 'horse', 'ship', 'truck')
    }
    SPLITS = ('train', 'test')

    def __init__(self,
                 split: str = 'train',
                 data_file: Optional[str] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'CIFAR10Mini got split={split!r}; use one of '
                             f'{list(self.SPLITS)}.')
        self.split = split
        self.data_file = osp.expanduser(
            BUNDLED_FILE if data_file is None else data_file)
        super().__init__(
            # Everything comes from `data_file`: no annotation file.
            ann_file='',
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Decode the images of ``split`` and return one dict per image."""
        if not osp.isfile(self.data_file):
            raise FileNotFoundError(
                f'CIFAR10Mini data file {self.data_file} not found; rebuild '
                f'the bundled file with `{REBUILD_COMMAND}` from the repo '
                f'root, or pass data_file= an existing cifar10_mini .npz.')
        with np.load(self.data_file, allow_pickle=False) as data:
            classes = tuple(data['classes'].tolist())
            jpeg = data[f'{self.split}_jpeg']
            offsets = data[f'{self.split}_offsets']
            labels = data[f'{self.split}_labels']
            names = data[f'{self.split}_names'].tolist()

        if classes != self.METAINFO['classes']:
            raise ValueError(
                f'{self.data_file} has classes {classes}, not the CIFAR-10 '
                f'classes {self.METAINFO["classes"]}; rebuild it with '
                f'`{REBUILD_COMMAND}`.')
        if len(self.CLASSES) != len(classes):
            raise ValueError(
                f'CIFAR10Mini has {len(classes)} classes in {self.data_file} '
                f'but metainfo gives {len(self.CLASSES)}: {self.CLASSES}; '
                f'give one name per class, in the order {classes}.')

        data_list = []
        for i, (label, name) in enumerate(zip(labels.tolist(), names)):
            img = mmcv.imfrombytes(
                jpeg[offsets[i]:offsets[i + 1]].tobytes(),
                flag='color',
                channel_order='bgr',
                backend='cv2')
            data_list.append(
                dict(
                    img=img,
                    img_shape=img.shape[:2],
                    ori_shape=img.shape[:2],
                    gt_label=label,
                    img_path=name))
        return data_list

    def _get_unserialized_subset(self, indices) -> list:
        """An integer ``indices`` takes the first (or last) images of the
        class-balanced order, not of the class-sorted file."""
        if isinstance(indices, int):
            order = class_balanced_order(
                [info['gt_label'] for info in self.data_list])
            order = order[:indices] if indices >= 0 else order[indices:]
            return [self.data_list[i] for i in order]
        return super()._get_unserialized_subset(indices)

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [f'Split: \t{self.split}', f'Data file: \t{self.data_file}']
