"""The searcher contract: propose generations, read their scores.

A searcher is deterministic given its seed and the scores it is told, and
never sees anything but names and scores. ``evaluate(names)`` (given by the
search loop) returns one score per name, higher is better; the loop caches
scores, so a re-run after an interruption replays finished generations from
the cache and continues exactly where an uninterrupted run would be.
"""
import abc
import random
from typing import Callable, List, Sequence

Evaluate = Callable[[Sequence[str]], List[float]]
Accept = Callable[[str], bool]


def draw_valid(draw: Callable[[], str], accept: Accept, max_tries: int,
               what: str) -> str:
    """Call ``draw`` until a candidate passes ``accept`` (the constraints)."""
    for _ in range(max_tries):
        name = draw()
        if accept(name):
            return name
    raise RuntimeError(
        f'no {what} met the constraints in {max_tries} tries; loosen '
        'train_cfg.constraints or check the search space.')


class BaseSearcher(abc.ABC):
    """Base of the registered searchers.

    Args:
        seed (int): Seed of the searcher's own ``random.Random``. Defaults
            to 0.
        max_tries (int): Draws allowed to find a candidate within the
            constraints before giving up with an error. Defaults to 1000.
    """

    def __init__(self, seed: int = 0, max_tries: int = 1000) -> None:
        self.seed = seed
        self.max_tries = max_tries

    @abc.abstractmethod
    def expected_evaluations(self, space) -> int:
        """How many candidates the search scores (for progress/ETA)."""

    @abc.abstractmethod
    def search(self, space, evaluate: Evaluate, accept: Accept) -> None:
        """Run the search, calling ``evaluate`` once per generation."""

    def _rng(self) -> random.Random:
        return random.Random(self.seed)
