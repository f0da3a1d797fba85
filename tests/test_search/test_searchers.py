"""Searchers on a synthetic space and score (no networks)."""

import pytest

from mmkd.registry import SEARCHERS


class LineSpace:
    """Candidates '0'..'n-1'; a mutation moves to a neighbour."""

    def __init__(self, n=30):
        self.n = n
        self.parents = []

    def names(self):
        return [str(i) for i in range(self.n)]

    def sample(self, rng):
        return str(rng.randrange(self.n))

    def mutate(self, name, rng):
        self.parents.append(name)
        i = int(name) + rng.choice((-1, 1))
        return str(min(max(i, 0), self.n - 1))


class Recorder:

    def __init__(self, score=lambda n: -abs(int(n) - 21)):
        self.score = score
        self.generations = []

    def __call__(self, names):
        self.generations.append(list(names))
        return [self.score(n) for n in names]


def _run(cfg, space=None, accept=lambda n: True, score=None):
    space = space or LineSpace()
    rec = Recorder(score) if score else Recorder()
    SEARCHERS.build(cfg).search(space, rec, accept)
    return rec, space


def test_exhaustive_covers_every_valid_candidate():
    rec, _ = _run(dict(type='ExhaustiveSearcher', generation_size=8),
                  accept=lambda n: int(n) % 2 == 0)
    assert [len(g) for g in rec.generations] == [8, 7]
    assert sum(rec.generations, []) == [str(i) for i in range(0, 30, 2)]
    with pytest.raises(RuntimeError, match='empty after the constraints'):
        _run(dict(type='ExhaustiveSearcher'), accept=lambda n: False)


def test_random_is_distinct_deterministic_and_constrained():
    cfg = dict(type='RandomSearcher', num_candidates=12, generation_size=5,
               seed=3)
    a, _ = _run(cfg, accept=lambda n: int(n) < 20)
    b, _ = _run(cfg, accept=lambda n: int(n) < 20)
    names = sum(a.generations, [])
    assert a.generations == b.generations
    assert len(names) == len(set(names)) == 12
    assert all(int(n) < 20 for n in names)
    c, _ = _run(dict(cfg, num_candidates=50), accept=lambda n: int(n) < 20)
    assert len(sum(c.generations, [])) == 20  # the valid space, exhausted
    with pytest.raises(RuntimeError, match='constraints'):
        _run(cfg, accept=lambda n: False)


def test_evolution_parent_is_best_of_tournament_and_constraints_hold():
    space = LineSpace()
    accepted = []

    def accept(n):
        accepted.append(n)
        return int(n) != 20

    cfg = dict(type='EvolutionSearcher', population_size=6,
               num_generations=8, children_per_generation=3,
               tournament_size=6, seed=1)
    rec, _ = _run(cfg, space=space, accept=accept)
    proposed = sum(rec.generations, [])
    assert '20' not in proposed  # every generation is constrained
    assert len(rec.generations) == 9 and len(rec.generations[0]) == 6
    # tournament over the whole population: the parent is its best member
    population = list(rec.generations[0])
    score = Recorder().score
    parents = iter(space.parents)
    for children in rec.generations[1:]:
        best = max(population, key=score)
        for _ in children:
            parent = next(parents)
            while parent != best:  # redraws after a rejected mutation
                parent = next(parents)
        population = (population + children)[-6:]  # aging
    best = max(proposed, key=score)
    assert best in ('21', '19', '22')
    again, _ = _run(cfg, accept=lambda n: int(n) != 20)
    assert again.generations == rec.generations


def test_evolution_worst_removal_and_errors():
    cfg = dict(type='EvolutionSearcher', population_size=4,
               num_generations=5, children_per_generation=2,
               tournament_size=2, removal='worst', seed=0)
    rec, _ = _run(cfg)
    assert len(sum(rec.generations, [])) == 4 + 5 * 2
    with pytest.raises(ValueError, match='removal'):
        SEARCHERS.build(dict(cfg, removal='oldest'))
    # only the first 4 drawn candidates are allowed: no mutation passes
    seen = set()

    def first_four(n):
        if len(seen) < 4:
            seen.add(n)
        return n in seen

    with pytest.raises(RuntimeError, match='mutation'):
        _run(dict(cfg, max_tries=20), space=LineSpace(n=1000),
             accept=first_four)
