"""DisWOT's CIFAR ResNet depth space "S1" (Dong et al., CVPR 2023, Sec. 4).

Three stages of widths 16/32/64 with a depth per stage in {1, 3, 5, 7}:
4^3 = 64 networks, named by their depths ("557" = 5, 5, 7 blocks).
"""
import itertools
import random
from typing import List, Sequence

from mmkd.registry import SEARCH_SPACES
from .base import Cost, SearchSpace, add_costs, diff, measure


@SEARCH_SPACES.register_module()
class CIFARResNetDepthSpace(SearchSpace):
    """Depth-per-stage CIFAR ResNets; a candidate is an ImageClassifier config.

    A candidate's name is its stage depths as digits (``'557'``), or joined
    by ``'-'`` when a depth has two digits (``'11-3-5'``).

    Args:
        depths (Sequence[int]): Choices of blocks per stage. Defaults to
            ``(1, 3, 5, 7)`` (S1).
        widths (Sequence[int]): Stage widths. Defaults to ``(16, 32, 64)``.
        num_stages (int): Defaults to 3.
        num_classes (int): Classifier outputs. Defaults to 100.

    Examples:
        >>> space = CIFARResNetDepthSpace()
        >>> len(space.names())
        64
        >>> space.to_config('557')['backbone']['stage_blocks']
        (5, 5, 7)
    """

    def __init__(self,
                 depths: Sequence[int] = (1, 3, 5, 7),
                 widths: Sequence[int] = (16, 32, 64),
                 num_stages: int = 3,
                 num_classes: int = 100) -> None:
        if len(widths) != num_stages:
            raise ValueError(f'CIFARResNetDepthSpace: {len(widths)} widths '
                             f'for num_stages={num_stages}.')
        if len(set(depths)) < 1 or min(depths) < 1:
            raise ValueError('CIFARResNetDepthSpace: depths must be '
                             f'integers >= 1, got {tuple(depths)}.')
        self.depths = tuple(sorted(set(int(d) for d in depths)))
        self.widths = tuple(widths)
        self.num_stages = num_stages
        self.num_classes = num_classes
        self._sep = '' if max(self.depths) < 10 else '-'

    # names <-> depths
    def name(self, stage_blocks: Sequence[int]) -> str:
        return self._sep.join(str(d) for d in stage_blocks)

    def decode(self, name: str) -> tuple:
        parts = name.split('-') if self._sep else list(name)
        try:
            blocks = tuple(int(p) for p in parts)
        except ValueError:
            blocks = ()
        if len(blocks) != self.num_stages or any(b not in self.depths
                                                 for b in blocks):
            raise ValueError(
                f'{name!r} is not a candidate of CIFARResNetDepthSpace: '
                f'give {self.num_stages} depths from {self.depths}, e.g. '
                f'{self.name([self.depths[-1]] * self.num_stages)!r}.')
        return blocks

    def names(self) -> List[str]:
        """Every candidate, in a fixed order (for exhaustive search)."""
        return [
            self.name(b)
            for b in itertools.product(self.depths, repeat=self.num_stages)
        ]

    def sample(self, rng: random.Random) -> str:
        """A uniformly random candidate."""
        return self.name([rng.choice(self.depths)
                          for _ in range(self.num_stages)])

    def mutate(self, name: str, rng: random.Random) -> str:
        """Change the depth of one random stage to another choice."""
        blocks = list(self.decode(name))
        if len(self.depths) < 2:
            return name
        stage = rng.randrange(self.num_stages)
        blocks[stage] = rng.choice(
            [d for d in self.depths if d != blocks[stage]])
        return self.name(blocks)

    def to_config(self, name: str) -> dict:
        """The candidate's mmpretrain ``ImageClassifier`` config."""
        return self._config(self.decode(name))

    def _config(self, blocks: Sequence[int]) -> dict:
        return dict(
            type='ImageClassifier',
            backbone=dict(
                type='CIFARStageResNet',
                stage_blocks=tuple(blocks),
                widths=self.widths),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=self.widths[-1],
                loss=dict(type='CrossEntropyLoss')))

    def cost(self, name: str, input_shape: tuple) -> Cost:
        """Exact: a net is the one-block-per-stage net plus ``d - 1``
        identical blocks in each stage, each block's cost measured once
        (4 small nets built per input shape)."""
        blocks = self.decode(name)
        ones = (1, ) * self.num_stages
        base = measure(self._config(ones), input_shape)
        terms = [(1, base)]
        for stage, depth in enumerate(blocks):
            two = list(ones)
            two[stage] = 2
            block = diff(measure(self._config(two), input_shape), base)
            terms.append((depth - 1, block))
        return add_costs(*terms)
