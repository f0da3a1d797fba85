"""A fixed random split of a dataset: a validation split carved from the
training set, for choosing checkpoints without looking at the test set."""
import copy
from typing import Union

import numpy as np
from torch.utils.data import Dataset

from mmkd.registry import DATASETS


@DATASETS.register_module()
class SplitDataset(Dataset):
    """One part (``'train'`` or ``'val'``) of a seeded random split.

    The indices ``0 .. len(dataset) - 1`` are shuffled with
    ``numpy.random.default_rng(seed)``; the first ``n_val`` form the
    ``'val'`` part, the rest the ``'train'`` part. Two instances with the
    same wrapped data, ``val_ratio`` and ``seed`` therefore split the same
    way, so the training loader (train pipeline, ``part='train'``) and the
    validation loader (test pipeline, ``part='val'``) never share an image.
    The split does not depend on ``randomness.seed``: runs with different
    seeds validate on the same images.

    ``n_val = max(1, round(val_ratio * len(dataset)))``; at least one image
    stays in each part.

    Used by DIH's head fine-tuning (``configs/dih/``), which picks each
    head on such a split (DIH's authors picked heads on the test set).
    It is registered when ``mmkd.datasets`` is imported, so configs name it
    by ``type='SplitDataset'`` alone.

    Args:
        dataset (dict | Dataset): The dataset to split (a config or a
            built dataset), e.g. CIFAR-100's training set.
        part (str): ``'train'`` or ``'val'``.
        val_ratio (float): Fraction of images in the ``'val'`` part.
            Defaults to 0.1 (5,000 of CIFAR's 50,000).
        seed (int): Seed of the split. Defaults to 0.

    Examples:
        >>> train = SplitDataset(dict(type='CIFAR10Mini', split='train'),
        ...                      part='train')
        >>> val = SplitDataset(dict(type='CIFAR10Mini', split='train'),
        ...                    part='val')
        >>> len(train), len(val)
        (4500, 500)
    """

    PARTS = ('train', 'val')

    def __init__(self,
                 dataset: Union[dict, Dataset],
                 part: str,
                 val_ratio: float = 0.1,
                 seed: int = 0) -> None:
        if part not in self.PARTS:
            raise ValueError(f'SplitDataset: part must be one of {self.PARTS}'
                             f', got {part!r}.')
        if not 0 < val_ratio < 1:
            raise ValueError('SplitDataset: val_ratio must be in (0, 1), got '
                             f'{val_ratio!r}.')
        if isinstance(dataset, dict):
            dataset = DATASETS.build(copy.deepcopy(dataset))
        self.dataset = dataset
        self.part = part
        self.val_ratio = val_ratio
        self.seed = seed
        total = len(dataset)
        if total < 2:
            raise ValueError(f'SplitDataset: the dataset has {total} images; '
                             'a split needs at least 2.')
        n_val = min(max(1, int(round(val_ratio * total))), total - 1)
        order = np.random.default_rng(seed).permutation(total)
        chosen = order[:n_val] if part == 'val' else order[n_val:]
        self.indices = sorted(int(i) for i in chosen)

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's meta information (classes, ...)."""
        return copy.deepcopy(getattr(self.dataset, 'metainfo', {}))

    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(self.indices[idx])

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int):
        return self.dataset[self.indices[idx]]

    def __repr__(self) -> str:
        return (f'SplitDataset(part={self.part!r}, {len(self)} of '
                f'{len(self.dataset)} images, val_ratio={self.val_ratio}, '
                f'seed={self.seed})')
