"""Data transforms of mmkd."""
from .multi_view import CAKDMultiView, ExtraView
from .replay import ReplayRandomCrop, ReplayRandomFlip, ReplayRandomResizedCrop

__all__ = [
    'CAKDMultiView', 'ExtraView', 'ReplayRandomCrop', 'ReplayRandomFlip',
    'ReplayRandomResizedCrop'
]
