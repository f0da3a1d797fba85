"""Datasets of mmkd: the bundled CIFAR-10 subset, dataset wrappers (CRD
negatives, held-out splits) and transforms (CAKD's multi-view)."""
from .cifar10_mini import CIFAR10Mini, class_balanced_order
from .crd import CRDDataset
from .split import SplitDataset
from .transforms import CAKDMultiView

__all__ = [
    'CIFAR10Mini', 'CRDDataset', 'SplitDataset', 'CAKDMultiView',
    'class_balanced_order'
]
