"""Data transforms of mmkd."""
from .multi_view import CAKDMultiView

__all__ = ['CAKDMultiView']
