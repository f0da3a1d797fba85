"""Evolutionary search (Real et al., AAAI 2019; DisWOT, CVPR 2023)."""
from mmkd.registry import SEARCHERS
from .base import BaseSearcher, draw_valid

REMOVALS = ('aging', 'worst')


@SEARCHERS.register_module()
class EvolutionSearcher(BaseSearcher):
    """Tournament evolution with aging or worst-removal.

    Generation 0 scores ``population_size`` random candidates. Each later
    generation makes ``children_per_generation`` children: a tournament
    samples ``tournament_size`` members of the population, the **best** of
    them is the parent, and the child is the parent with one block/stage
    mutated (``space.mutate``), redrawn until it meets the constraints. The
    children are scored together, join the population, and the population
    shrinks back to ``population_size`` by removing the oldest members
    (``'aging'``, regularised evolution) or the worst (``'worst'``, as
    DisWOT's macro search). Constraints apply to every candidate of every
    generation. The result is the best candidate ever scored.

    Args:
        population_size (int): Defaults to 16.
        num_generations (int): Generations after the first. Defaults to 10.
        children_per_generation (int, optional): Defaults to
            ``population_size // 2`` (at least 1).
        tournament_size (int): Defaults to 4.
        removal (str): ``'aging'`` or ``'worst'``. Defaults to ``'aging'``.
        seed (int): Defaults to 0.
        max_tries (int): Defaults to 1000.
    """

    def __init__(self,
                 population_size: int = 16,
                 num_generations: int = 10,
                 children_per_generation=None,
                 tournament_size: int = 4,
                 removal: str = 'aging',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if removal not in REMOVALS:
            raise ValueError(f'EvolutionSearcher: removal={removal!r}; use '
                             f'one of {REMOVALS}.')
        if population_size < 1 or tournament_size < 1:
            raise ValueError('EvolutionSearcher: population_size and '
                             'tournament_size must be >= 1.')
        self.population_size = population_size
        self.num_generations = num_generations
        self.children_per_generation = (children_per_generation or max(
            1, population_size // 2))
        self.tournament_size = tournament_size
        self.removal = removal

    def expected_evaluations(self, space) -> int:
        return (self.population_size +
                self.num_generations * self.children_per_generation)

    def search(self, space, evaluate, accept) -> None:
        rng = self._rng()
        names = [
            draw_valid(lambda: space.sample(rng), accept, self.max_tries,
                       'random candidate')
            for _ in range(self.population_size)
        ]
        # population: [name, score] in age order (oldest first)
        population = [[n, s] for n, s in zip(names, evaluate(names))]
        for _ in range(self.num_generations):
            children = []
            for _ in range(self.children_per_generation):
                sample = rng.sample(population,
                                    min(self.tournament_size,
                                        len(population)))
                parent = max(sample, key=lambda m: m[1])[0]
                children.append(
                    draw_valid(lambda: space.mutate(parent, rng), accept,
                               self.max_tries, f'mutation of {parent!r}'))
            population += [[n, s] for n, s in zip(children,
                                                  evaluate(children))]
            excess = len(population) - self.population_size
            if excess <= 0:
                continue
            if self.removal == 'aging':
                del population[:excess]
            else:
                order = sorted(range(len(population)),
                               key=lambda i: (population[i][1], i))
                drop = set(order[:excess])
                population = [
                    m for i, m in enumerate(population) if i not in drop
                ]
