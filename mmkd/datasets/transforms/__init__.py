"""Data transforms of mmkd."""
from .multi_view import CAKDMultiView, ExtraView

__all__ = ['CAKDMultiView', 'ExtraView']
