"""CRD's sampling dataset wrapper: each sample carries its contrast indices
(Tian, Krishnan & Isola, "Contrastive Representation Distillation", ICLR
2020)."""
import copy
from typing import Union

import numpy as np
from mmengine.dataset.base_dataset import force_full_init

from mmkd.registry import DATASETS


@DATASETS.register_module()
class CRDDataset:
    """Wrap a classification dataset so each sample carries CRD's indices.

    A sample is the inner dataset's packed sample, with its data sample's
    metainfo extended by ``contrast_idx``: an int64 array of shape
    ``[nce_k + 1]``, the positive first, then ``nce_k`` negatives drawn
    uniformly from the samples of the *other* classes. As in RepDistiller's
    ``CIFAR100InstanceSample``:

    - ``mode='exact'`` (default): the positive is the sample itself (its
      ``sample_idx``).
    - ``mode='relax'``: the positive is a random sample of the same class
      (possibly itself). The memory bank is still updated at the sample's
      own ``sample_idx`` (``CRDLoss`` uses ``sample_idx`` for that).

    With the same numpy state the draws equal the reference's: its
    per-class lists are this wrapper's class-sorted index list restricted to
    (positive) or with (negative) the anchor's class cut out, addressed here
    by arithmetic instead of being stored per class.

    Negatives are drawn without replacement unless ``nce_k`` exceeds the
    pool. Draws use **numpy's global generator**, as the reference does: with
    ``num_workers=0``, :class:`mmkd.engine.RNGStateHook` makes a resumed run
    draw the same negatives; with workers, mmengine's ``worker_init_fn``
    seeds each worker.

    The class index is computed once in :meth:`full_init` from the inner
    dataset's ``get_gt_labels()`` (annotations only, no image is decoded).

    Args:
        dataset (dict | Dataset): The inner dataset or its config. It must
            be single-label, provide ``get_gt_labels()`` and end its pipeline
            with ``PackInputs``.
        nce_k (int): Negatives per sample; must equal ``CRDLoss.nce_k``.
            Defaults to 16384.
        mode (str): ``'exact'`` or ``'relax'``, see above. Defaults to
            ``'exact'``.
        is_sample (bool): Add ``contrast_idx``. False returns the inner
            samples unchanged (``CRDLoss`` then draws uniform negatives).
            Defaults to True.
        lazy_init (bool): Defer :meth:`full_init` to the first access.
            Defaults to False.

    Examples:
        >>> from mmkd.datasets import CRDDataset
        >>> ds = CRDDataset(
        ...     dict(type='CIFAR10Mini', indices=list(range(0, 5000, 25)),
        ...          pipeline=[dict(type='PackInputs')]), nce_k=16)
        >>> ds[3]['data_samples'].contrast_idx.shape
        (17,)
    """

    MODES = ('exact', 'relax')

    def __init__(self,
                 dataset: Union[dict, object],
                 nce_k: int = 16384,
                 mode: str = 'exact',
                 is_sample: bool = True,
                 lazy_init: bool = False) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        elif not hasattr(dataset, '__getitem__'):
            raise TypeError('CRDDataset: dataset must be a dataset config '
                            f'dict or a dataset, got {type(dataset)}.')
        if mode not in self.MODES:
            raise ValueError(f'CRDDataset: mode must be one of '
                             f'{list(self.MODES)}, got {mode!r}.')
        if not isinstance(nce_k, int) or nce_k < 1:
            raise ValueError(
                f'CRDDataset: nce_k must be a positive int, got {nce_k!r}.')
        self.dataset = dataset
        self.nce_k = nce_k
        self.mode = mode
        self.is_sample = is_sample
        self._metainfo = getattr(dataset, 'metainfo', {})
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The inner dataset's meta information (a copy)."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Initialise the inner dataset and index the samples by class."""
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        if not hasattr(self.dataset, 'get_gt_labels'):
            raise TypeError(
                f'CRDDataset: {type(self.dataset).__name__} has no '
                'get_gt_labels(); wrap an mmpretrain classification dataset.')
        labels = np.asarray(self.dataset.get_gt_labels())
        if labels.ndim != 1 or len(labels) != len(self.dataset):
            raise ValueError(
                'CRDDataset needs one integer class label per sample, got '
                f'labels of shape {labels.shape} for {len(self.dataset)} '
                'samples; wrap a single-label dataset.')
        self._labels = labels.astype(np.int64)
        # sample indices grouped by class (ascending), ascending within one
        self._order = np.argsort(self._labels, kind='stable')
        self._classes, self._starts, self._counts = np.unique(
            self._labels[self._order], return_index=True, return_counts=True)
        if len(labels) < 2:
            raise ValueError('CRDDataset: the dataset has fewer than two '
                             'samples, so there is no negative to draw.')
        if len(self._classes) < 2:
            raise ValueError(
                'CRDDataset draws negatives from other classes but the '
                'dataset has one class; use a dataset with several classes '
                '(or is_sample=False, which lets CRDLoss draw uniformly).')
        self._fully_initialized = True

    @force_full_init
    def __len__(self) -> int:
        return len(self.dataset)

    @force_full_init
    def get_gt_labels(self) -> np.ndarray:
        """The class label of every sample, ``[len(self)]``."""
        return self._labels.copy()

    @force_full_init
    def __getitem__(self, idx: int) -> dict:
        sample = self.dataset[idx]
        if not self.is_sample:
            return sample
        data_sample = sample.get('data_samples') if isinstance(
            sample, dict) else None
        if data_sample is None:
            raise TypeError(
                'CRDDataset: the inner samples have no data_samples; end the '
                "inner dataset's pipeline with dict(type='PackInputs').")
        # the inner dataset may substitute another sample (mmengine retries
        # when a pipeline returns None): anchor on the one returned
        anchor = int(data_sample.metainfo.get('sample_idx', idx % len(self)))
        data_sample.set_metainfo(dict(contrast_idx=self.draw(anchor)))
        return sample

    @force_full_init
    def draw(self, idx: int) -> np.ndarray:
        """Contrast indices of sample ``idx``: ``[positive, nce_k negatives]``.
        """
        n = len(self._labels)
        c = np.searchsorted(self._classes, self._labels[idx])
        start, count = self._starts[c], self._counts[c]
        positive = idx
        if self.mode == 'relax':
            # RepDistiller draws the positive first, then the negatives
            positive = self._order[start + np.random.choice(count, 1)[0]]
        # positions in the class-sorted list with idx's class cut out
        pos = np.random.choice(
            n - count, self.nce_k, replace=self.nce_k > n - count)
        neg = self._order[pos + count * (pos >= start)]
        return np.concatenate([[positive], neg]).astype(np.int64)
