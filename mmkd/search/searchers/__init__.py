"""Searchers: exhaustive, random and evolutionary."""
from .base import BaseSearcher
from .evolution import EvolutionSearcher
from .simple import ExhaustiveSearcher, RandomSearcher

__all__ = [
    'BaseSearcher', 'EvolutionSearcher', 'ExhaustiveSearcher',
    'RandomSearcher'
]
