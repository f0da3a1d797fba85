"""Exhaustive and random search."""
from mmkd.registry import SEARCHERS
from .base import BaseSearcher, draw_valid


@SEARCHERS.register_module()
class ExhaustiveSearcher(BaseSearcher):
    """Score every candidate of a small space that meets the constraints.

    Args:
        generation_size (int): Candidates per generation (the unit of
            resuming and of splitting across processes). Defaults to 16.
    """

    def __init__(self, generation_size: int = 16, **kwargs) -> None:
        super().__init__(**kwargs)
        self.generation_size = generation_size

    def expected_evaluations(self, space) -> int:
        return len(space.names())

    def search(self, space, evaluate, accept) -> None:
        names = [n for n in space.names() if accept(n)]
        if not names:
            raise RuntimeError(
                f'the search space is empty after the constraints: none of '
                f'its {len(space.names())} candidates meets them; loosen '
                'train_cfg.constraints.')
        for i in range(0, len(names), self.generation_size):
            evaluate(names[i:i + self.generation_size])


@SEARCHERS.register_module()
class RandomSearcher(BaseSearcher):
    """Score ``num_candidates`` distinct random candidates.

    Args:
        num_candidates (int): Candidates to score (fewer if the space has
            fewer valid ones).
        generation_size (int): Candidates per generation. Defaults to 16.
        seed (int): Defaults to 0.
    """

    def __init__(self, num_candidates: int, generation_size: int = 16,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_candidates = num_candidates
        self.generation_size = generation_size

    def expected_evaluations(self, space) -> int:
        return self.num_candidates

    def search(self, space, evaluate, accept) -> None:
        rng = self._rng()
        seen = set()
        batch = []
        for _ in range(self.num_candidates):
            try:
                name = draw_valid(lambda: space.sample(rng),
                                  lambda n: n not in seen and accept(n),
                                  self.max_tries, 'new random candidate')
            except RuntimeError:
                if not seen and not batch:
                    raise
                break  # the valid part of the space is exhausted
            seen.add(name)
            batch.append(name)
            if len(batch) == self.generation_size:
                evaluate(batch)
                batch = []
        if batch:
            evaluate(batch)
