"""The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020), as searched by
DisWOT (Dong et al., CVPR 2023): 5 ops on the 6 edges of a 4-node cell,
5^6 = 15,625 networks named by their official arch strings."""
import random
from typing import List, Sequence

from mmkd.models.backbones.nb201 import (NB201_EDGES, NB201_OPS, all_archs,
                                         arch_to_ops, ops_to_arch)
from mmkd.registry import SEARCH_SPACES
from .base import Cost, SearchSpace, add_costs, diff, measure


@SEARCH_SPACES.register_module()
class NASBench201Space(SearchSpace):
    """NB201 cells; a candidate is an ``NB201Net`` ImageClassifier config.

    A name is an official arch string such as
    ``'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|'
    'nor_conv_3x3~1|skip_connect~2|'``, so search results can be looked up
    in the benchmark's tables. ``mutate`` gives one random edge another op
    (NB201's regularised-evolution mutation).

    Args:
        ops (Sequence[str]): Edge op choices, a subset of ``('none',
            'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3',
            'avg_pool_3x3')``. Defaults to all five.
        channels (int): ``C``. Defaults to 16.
        num_cells (int): ``N``, cells per stage. Defaults to 5.
        num_classes (int): Classifier outputs. Defaults to 10.

    Examples:
        >>> space = NASBench201Space()
        >>> len(space.names())
        15625
    """

    def __init__(self,
                 ops: Sequence[str] = NB201_OPS,
                 channels: int = 16,
                 num_cells: int = 5,
                 num_classes: int = 10) -> None:
        ops = tuple(ops)
        bad = [op for op in ops if op not in NB201_OPS]
        if bad or not ops or len(set(ops)) != len(ops):
            raise ValueError(f'NASBench201Space.ops = {ops}: give distinct '
                             f'ops from {NB201_OPS}.')
        self.ops = tuple(op for op in NB201_OPS if op in ops)
        self.channels = channels
        self.num_cells = num_cells
        self.num_classes = num_classes

    def decode(self, name: str) -> tuple:
        """The 6 edge ops of a candidate, in the arch string's edge order."""
        ops = arch_to_ops(name)
        outside = sorted(set(ops) - set(self.ops))
        if outside:
            raise ValueError(f'{name!r} uses {outside}, which are not in '
                             f'this NASBench201Space\'s ops {self.ops}.')
        return ops

    def names(self) -> List[str]:
        """Every candidate, in a fixed order (for exhaustive search)."""
        return all_archs(self.ops)

    def sample(self, rng: random.Random) -> str:
        """A uniformly random cell."""
        return ops_to_arch([rng.choice(self.ops) for _ in NB201_EDGES])

    def mutate(self, name: str, rng: random.Random) -> str:
        """Give one random edge another op."""
        ops = list(self.decode(name))
        if len(self.ops) < 2:
            return name
        edge = rng.randrange(len(ops))
        ops[edge] = rng.choice([op for op in self.ops if op != ops[edge]])
        return ops_to_arch(ops)

    def to_config(self, name: str) -> dict:
        """The candidate's mmpretrain ``ImageClassifier`` config."""
        self.decode(name)
        return self._config(name)

    def _config(self, name: str) -> dict:
        return dict(
            type='ImageClassifier',
            backbone=dict(type='NB201Net', arch=name,
                          channels=self.channels, num_cells=self.num_cells),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=4 * self.channels,
                loss=dict(type='CrossEntropyLoss')))

    def cost(self, name: str, input_shape: tuple) -> Cost:
        """Exact: every cell runs all 6 edges on inputs of the same shape,
        so a net is the all-``none`` net plus one per-edge cost per op,
        each measured once (the 5 uniform nets, built per input shape)."""
        ops = self.decode(name)
        base = measure(self._config(ops_to_arch(['none'] * 6)), input_shape)
        terms = [(1, base)]
        for op in set(ops) - {'none'}:
            uniform = measure(self._config(ops_to_arch([op] * 6)),
                              input_shape)
            per_edge = diff(uniform, base)
            if per_edge[0] % 6 or per_edge[1] % 6:
                return None  # not additive: let the search count it
            terms.append((ops.count(op), (per_edge[0] // 6,
                                           per_edge[1] // 6)))
        return add_costs(*terms)
