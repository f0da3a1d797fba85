"""An example plugin search space: the width of each CIFAR ResNet stage."""
import itertools
import random
from typing import List, Sequence

from mmkd.registry import SEARCH_SPACES


@SEARCH_SPACES.register_module()
class CIFARResNetWidthSpace:
    """CIFAR ResNets with fixed depths and a width per stage.

    A candidate is named by its stage widths joined by ``'-'``
    (``'16-32-64'`` is ResNet-20 with ``stage_blocks=(3, 3, 3)``); its model
    is an mmpretrain ``ImageClassifier`` around mmkd's ``CIFARStageResNet``.
    The contract the search loop and the searchers use: ``names()``,
    ``sample(rng)``, ``mutate(name, rng)`` and ``to_config(name)``.

    Args:
        stage_blocks (Sequence[int]): Blocks in each of the 3 stages.
            Defaults to ``(3, 3, 3)`` (ResNet-20's depth).
        width_choices (Sequence[int]): Widths a stage may take. Defaults to
            ``(16, 32, 64)``.
        num_classes (int): Classifier outputs. Defaults to 10.

    Examples:
        >>> space = CIFARResNetWidthSpace(width_choices=(8, 16))
        >>> space.names()[:2]
        ['8-8-8', '8-8-16']
        >>> space.to_config('8-16-16')['backbone']['widths']
        (8, 16, 16)
    """

    num_stages = 3

    def __init__(self,
                 stage_blocks: Sequence[int] = (3, 3, 3),
                 width_choices: Sequence[int] = (16, 32, 64),
                 num_classes: int = 10) -> None:
        if len(tuple(stage_blocks)) != self.num_stages:
            raise ValueError(
                f'CIFARResNetWidthSpace: stage_blocks={tuple(stage_blocks)} '
                f'must give {self.num_stages} block counts, e.g. (3, 3, 3).')
        if not width_choices or min(width_choices) < 1:
            raise ValueError(
                'CIFARResNetWidthSpace: width_choices must be positive '
                f'integers, got {tuple(width_choices)}.')
        self.stage_blocks = tuple(int(b) for b in stage_blocks)
        self.width_choices = tuple(sorted(set(int(w)
                                              for w in width_choices)))
        self.num_classes = num_classes

    def name(self, widths: Sequence[int]) -> str:
        return '-'.join(str(w) for w in widths)

    def decode(self, name: str) -> tuple:
        """The widths of a candidate name, with a clear error if invalid."""
        try:
            widths = tuple(int(p) for p in name.split('-'))
        except ValueError:
            widths = ()
        if len(widths) != self.num_stages or any(
                w not in self.width_choices for w in widths):
            raise ValueError(
                f'{name!r} is not a candidate of CIFARResNetWidthSpace: give '
                f'{self.num_stages} widths from {self.width_choices} joined '
                f'by "-", e.g. {self.name(self.width_choices[:1] * 3)!r}.')
        return widths

    def names(self) -> List[str]:
        """Every candidate, in a fixed order (for exhaustive search)."""
        return [
            self.name(w) for w in itertools.product(
                self.width_choices, repeat=self.num_stages)
        ]

    def sample(self, rng: random.Random) -> str:
        """A uniformly random candidate."""
        return self.name(
            [rng.choice(self.width_choices) for _ in range(self.num_stages)])

    def mutate(self, name: str, rng: random.Random) -> str:
        """Change the width of one random stage to another choice."""
        widths = list(self.decode(name))
        if len(self.width_choices) < 2:
            return name
        stage = rng.randrange(self.num_stages)
        widths[stage] = rng.choice(
            [w for w in self.width_choices if w != widths[stage]])
        return self.name(widths)

    def to_config(self, name: str) -> dict:
        """The candidate's mmpretrain ``ImageClassifier`` config."""
        widths = self.decode(name)
        return dict(
            type='ImageClassifier',
            backbone=dict(
                type='CIFARStageResNet',
                stage_blocks=self.stage_blocks,
                widths=widths),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=widths[-1],
                loss=dict(type='CrossEntropyLoss')))
