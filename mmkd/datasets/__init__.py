"""Datasets of mmkd: the bundled CIFAR-10 subset, dataset wrappers (CRD
negatives, held-out splits) and transforms (CAKD's multi-view)."""
from .cifar10_mini import CIFAR10Mini, class_balanced_order
from .crd import CRDDataset
from .split import SplitDataset
from .teacher_store import (TeacherStore, TeacherStoreDataset,
                            TeacherStoreSampler)
from .transforms import (CAKDMultiView, ReplayRandomCrop, ReplayRandomFlip,
                         ReplayRandomResizedCrop)

__all__ = [
    'CIFAR10Mini', 'CRDDataset', 'SplitDataset', 'CAKDMultiView',
    'class_balanced_order',
    'TeacherStore', 'TeacherStoreDataset', 'TeacherStoreSampler',
    'ReplayRandomCrop', 'ReplayRandomFlip', 'ReplayRandomResizedCrop'
]
