"""Data transforms of mmkd."""
from .multi_view import CAKDMultiView
from .replay import ReplayRandomCrop, ReplayRandomFlip, ReplayRandomResizedCrop

__all__ = [
    'CAKDMultiView', 'ReplayRandomCrop', 'ReplayRandomFlip',
    'ReplayRandomResizedCrop'
]
