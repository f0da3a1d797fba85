"""An example plugin searcher: greedy local search around the best."""
from mmkd.registry import SEARCHERS
from mmkd.search.searchers.base import BaseSearcher, draw_valid


@SEARCHERS.register_module()
class LocalSearcher(BaseSearcher):
    """Greedy local search: random starts, then mutations of the best.

    Generation 0 scores ``num_starts`` random candidates. Each of the
    ``num_steps`` later generations scores ``neighbours`` mutations
    (``space.mutate``) of the best candidate so far. Every candidate meets
    the constraints (``accept``); repeats are allowed, since the search loop
    scores a name only once.

    Args:
        num_starts (int): Random candidates of generation 0. Defaults to 4.
        num_steps (int): Generations after the first. Defaults to 3.
        neighbours (int): Mutations scored per step. Defaults to 4.
        seed (int): Seed of the searcher's ``random.Random``; the search
            loop sets it to ``train_cfg.seed`` unless given. Defaults to 0.
        max_tries (int): Draws allowed to find a valid candidate. Defaults
            to 1000.
    """

    def __init__(self, num_starts: int = 4, num_steps: int = 3,
                 neighbours: int = 4, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_starts < 1 or neighbours < 1 or num_steps < 0:
            raise ValueError(
                'LocalSearcher: num_starts and neighbours must be >= 1 and '
                f'num_steps >= 0, got {num_starts}, {neighbours}, '
                f'{num_steps}.')
        self.num_starts = num_starts
        self.num_steps = num_steps
        self.neighbours = neighbours

    def expected_evaluations(self, space) -> int:
        return self.num_starts + self.num_steps * self.neighbours

    def search(self, space, evaluate, accept) -> None:
        rng = self._rng()
        starts = [
            draw_valid(lambda: space.sample(rng), accept, self.max_tries,
                       'random start')
            for _ in range(self.num_starts)
        ]
        scored = list(zip(starts, evaluate(starts)))
        best = max(scored, key=lambda ns: ns[1])  # ties: the first
        for _ in range(self.num_steps):
            children = [
                draw_valid(lambda: space.mutate(best[0], rng), accept,
                           self.max_tries, 'mutation of the best')
                for _ in range(self.neighbours)
            ]
            for pair in zip(children, evaluate(children)):
                if pair[1] > best[1]:
                    best = pair
