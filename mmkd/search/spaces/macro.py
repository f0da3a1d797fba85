"""DisWOT's Zen-NAS-style macro space: residual block groups whose kernel,
width and depth mutate one at a time.

Dong et al., "DisWOT: Student Architecture Search for Distillation WithOut
Training", CVPR 2023 (macro search on CIFAR and ImageNet); the mutation
rules follow Lin et al., "Zen-NAS", ICCV 2021: kernels {3, 5, 7}; widths
scaled by {2.5, 2, 1.5, 1.25, 1, 1/1.25, 1/1.5, 1/2, 1/2.5} and rounded to
multiples of 8; depth +-2 (CIFAR); the ImageNet ResNet-18-like space scales
widths by {1.5, 1.25, 1, 0.8, 0.667} with depth +-1.
"""
import copy
import random
import re
from typing import List, Optional, Sequence

from mmkd.models.backbones.macro_resnet import check_groups, count_layers
from mmkd.registry import SEARCH_SPACES
from .base import Cost, SearchSpace

ZEN_WIDTH_MULTIPLIERS = (2.5, 2.0, 1.5, 1.25, 1.0, 1 / 1.25, 1 / 1.5, 0.5,
                         1 / 2.5)
RESNET18_WIDTH_MULTIPLIERS = (1.5, 1.25, 1.0, 0.8, 0.667)


def _basic_groups(widths, depth, strides):
    return [
        dict(type='basic', kernel=3, width=w, depth=depth, stride=s)
        for w, s in zip(widths, strides)
    ]


# mmkd's presets; max_layers keeps evolution from growing past the usual
# teacher (ResNet-56 on CIFAR, ResNet-34 for the ResNet-18-like spaces).
PRESETS = dict(
    cifar_resnet20=dict(
        groups=_basic_groups((16, 32, 64), 3, (1, 2, 2)),
        stem=dict(stem_channels=16, stem_kernel=3, stem_stride=1),
        kernels=(3, 5, 7), width_multipliers=ZEN_WIDTH_MULTIPLIERS,
        depth_delta=2, max_layers=56),
    cifar_resnet18=dict(
        groups=_basic_groups((64, 128, 256, 512), 2, (1, 2, 2, 2)),
        stem=dict(stem_channels=64, stem_kernel=3, stem_stride=1),
        kernels=(3, 5, 7), width_multipliers=ZEN_WIDTH_MULTIPLIERS,
        depth_delta=2, max_layers=34),
    imagenet_resnet18=dict(
        groups=_basic_groups((64, 128, 256, 512), 2, (1, 2, 2, 2)),
        stem=dict(stem_channels=64, stem_kernel=7, stem_stride=2,
                  stem_pool=True),
        kernels=(3, 5, 7), width_multipliers=RESNET18_WIDTH_MULTIPLIERS,
        depth_delta=1, max_layers=34),
)
STEM_KEYS = ('stem_channels', 'stem_kernel', 'stem_stride', 'stem_pool')
_GROUP = re.compile(r'^(basic|bottleneck)-k(\d+)-w(\d+)-d(\d+)-s(\d+)$')


def _conv(cin: int, cout: int, k: int, stride: int, hw: tuple):
    """``(params, FLOPs, output hw)`` of a bias-free ``k x k`` conv with
    padding ``k // 2`` and its norm, as mmengine counts them (a conv's
    multiply-adds; an affine norm, 2 per output element; norm params 2 per
    channel)."""
    out = tuple((x + 2 * (k // 2) - k) // stride + 1 for x in hw)
    area = out[0] * out[1]
    return (cin * cout * k * k + 2 * cout,
            cin * cout * k * k * area + 2 * cout * area, out)


def _block(kind: str, cin: int, cout: int, k: int, stride: int, hw: tuple,
           mid: int):
    if kind == 'basic':
        layers = [(cin, cout, k, stride), (cout, cout, k, 1)]
    else:
        layers = [(cin, mid, 1, 1), (mid, mid, k, stride), (mid, cout, 1, 1)]
    params = flops = 0
    out_hw = hw
    for c_in, c_out, kernel, s in layers:
        p, f, out_hw = _conv(c_in, c_out, kernel, s, out_hw)
        params, flops = params + p, flops + f
    if stride != 1 or cin != cout:  # the 1x1 projection shortcut
        p, f, _ = _conv(cin, cout, 1, stride, hw)
        params, flops = params + p, flops + f
    return params, flops, out_hw


@SEARCH_SPACES.register_module()
class MacroSpace(SearchSpace):
    """Mutations of a seed ResNet's block groups (kernel, width, depth).

    A candidate is a :class:`~mmkd.models.backbones.MacroResNet` with the
    seed's stem, number of groups, block types and strides. Its name lists
    the groups, joined by ``'_'``, as ``{type}-k{kernel}-w{width}-d{depth}-
    s{stride}``; CIFAR ResNet-20 is
    ``'basic-k3-w16-d3-s1_basic-k3-w32-d3-s2_basic-k3-w64-d3-s2'``.

    - ``mutate`` picks a random group, then one of its kernel, width or
      depth, then a new value: another kernel of ``kernels``; the width
      times a multiplier of ``width_multipliers``, rounded to a multiple of
      ``width_divisor`` (at least ``width_divisor``); the depth plus
      ``-depth_delta..depth_delta`` (at least 1). Widths and depths
      compound over generations, as in Zen-NAS; only changes that keep the
      net within ``max_layers`` are drawn.
    - ``sample`` gives every seed group a random kernel, width multiplier
      and depth change (a random neighbour of the seed; redrawn while over
      ``max_layers``).
    - ``names`` is not available: the space is unbounded, so search it
      with ``RandomSearcher`` or ``EvolutionSearcher``.

    Args:
        preset (str, optional): ``'cifar_resnet20'`` (3 groups 16/32/64 of
            3 blocks), ``'cifar_resnet18'`` (4 groups 64..512 of 2 blocks,
            3x3 stem) or ``'imagenet_resnet18'`` (7x7/2 stem + max pool,
            widths x{1.5, 1.25, 1, 0.8, 0.667}, depth +-1). Any argument
            given explicitly overrides the preset's. Defaults to None.
        groups (Sequence[dict], optional): The seed's block groups,
            ``dict(type='basic' | 'bottleneck', kernel, width, depth,
            stride)``; required without a preset.
        stem (dict, optional): ``MacroResNet`` stem arguments
            (``stem_channels``, ``stem_kernel``, ``stem_stride``,
            ``stem_pool``). Defaults to the preset's, else a 3x3 stem as
            wide as the first group.
        kernels (Sequence[int], optional): Kernel choices. Defaults to
            ``(3, 5, 7)``.
        width_multipliers (Sequence[float], optional): Width mutation
            factors. Defaults to Zen-NAS's nine.
        depth_delta (int, optional): Largest depth change of one mutation.
            Defaults to 2.
        max_layers (int, optional): Most weighted layers (stem + block
            convs + classifier, ResNet-18 = 18) of a candidate. Defaults
            to the preset's, else no limit.
        width_divisor (int): Widths are multiples of it. Defaults to 8.
        num_classes (int): Classifier outputs. Defaults to 100.

    Examples:
        >>> space = MacroSpace(preset='cifar_resnet20', num_classes=10)
        >>> seed = space.seed_name
        >>> space.to_config(seed)['backbone']['groups'][0]
        {'type': 'basic', 'kernel': 3, 'width': 16, 'depth': 3, 'stride': 1}
    """

    def __init__(self,
                 preset: Optional[str] = None,
                 groups: Optional[Sequence[dict]] = None,
                 stem: Optional[dict] = None,
                 kernels: Optional[Sequence[int]] = None,
                 width_multipliers: Optional[Sequence[float]] = None,
                 depth_delta: Optional[int] = None,
                 max_layers: Optional[int] = None,
                 width_divisor: int = 8,
                 num_classes: int = 100) -> None:
        if preset is not None and preset not in PRESETS:
            raise ValueError(f'MacroSpace: preset={preset!r} is unknown; use '
                             f'one of {sorted(PRESETS)} or None with groups.')
        base = copy.deepcopy(PRESETS[preset]) if preset else dict(
            kernels=(3, 5, 7), width_multipliers=ZEN_WIDTH_MULTIPLIERS,
            depth_delta=2, max_layers=None)
        if groups is None and preset is None:
            raise ValueError('MacroSpace: give a preset or the seed groups, '
                             "e.g. groups=[dict(type='basic', kernel=3, "
                             'width=16, depth=3, stride=1), ...].')
        groups = check_groups(
            groups if groups is not None else base['groups'],
            'MacroSpace.groups')
        for i, g in enumerate(groups):
            if 'mid_width' in g:
                raise ValueError(
                    f'MacroSpace.groups[{i}] sets mid_width; the space '
                    'derives bottleneck widths (width // 4), remove it.')
        self.seed_groups = groups
        if stem is None:
            stem = base.get('stem', dict(stem_channels=groups[0]['width']))
        bad = sorted(set(stem) - set(STEM_KEYS))
        if bad:
            raise ValueError(f'MacroSpace.stem: unknown keys {bad}; use '
                             f'{STEM_KEYS}.')
        self.stem = dict(stem)
        self.kernels = tuple(kernels if kernels is not None else
                             base['kernels'])
        self.width_multipliers = tuple(
            width_multipliers if width_multipliers is not None else
            base['width_multipliers'])
        self.depth_delta = (depth_delta if depth_delta is not None else
                            base['depth_delta'])
        self.max_layers = (max_layers if max_layers is not None else
                           base['max_layers'])
        self.width_divisor = width_divisor
        self.num_classes = num_classes
        if not self.kernels or any(
                not isinstance(k, int) or k < 1 or k % 2 == 0
                for k in self.kernels):
            raise ValueError('MacroSpace.kernels must be odd integers, got '
                             f'{self.kernels}.')
        if not self.width_multipliers or min(self.width_multipliers) <= 0:
            raise ValueError('MacroSpace.width_multipliers must be positive '
                             f'numbers, got {self.width_multipliers}.')
        if not isinstance(self.depth_delta, int) or self.depth_delta < 0:
            raise ValueError('MacroSpace.depth_delta must be an integer >= '
                             f'0, got {self.depth_delta!r}.')
        if not isinstance(width_divisor, int) or width_divisor < 1:
            raise ValueError('MacroSpace.width_divisor must be an integer '
                             f'>= 1, got {width_divisor!r}.')
        seed = [dict(g) for g in groups]
        for g in seed:
            g['width'] = self._round(g['width'])
        if self.max_layers is not None and count_layers(seed) > \
                self.max_layers:
            raise ValueError(
                f'MacroSpace: the seed has {count_layers(seed)} layers, '
                f'more than max_layers={self.max_layers}; raise max_layers.')
        for i, g in enumerate(seed):
            if g['kernel'] not in self.kernels:
                raise ValueError(
                    f'MacroSpace.groups[{i}].kernel = {g["kernel"]} is not '
                    f'one of kernels={self.kernels}; add it to kernels.')
        self.seed_name = self.name(seed)

    # ---------------------------------------------------------------- names
    def _round(self, width: float) -> int:
        d = self.width_divisor
        return max(d, int(width / d + 0.5) * d)

    @staticmethod
    def name(groups: Sequence[dict]) -> str:
        """The name of a list of groups."""
        return '_'.join(f'{g["type"]}-k{g["kernel"]}-w{g["width"]}-'
                        f'd{g["depth"]}-s{g["stride"]}' for g in groups)

    def decode(self, name: str) -> List[dict]:
        """The block groups of a candidate's name."""
        groups = []
        for token in name.split('_') if isinstance(name, str) else []:
            m = _GROUP.match(token)
            if m is None:
                groups = None
                break
            t, k, w, d, s = m.groups()
            groups.append(dict(type=t, kernel=int(k), width=int(w),
                               depth=int(d), stride=int(s)))
        ok = groups is not None and len(groups) == len(self.seed_groups)
        if ok:
            ok = all(
                g['type'] == s['type'] and g['stride'] == s['stride']
                and g['kernel'] in self.kernels and g['depth'] >= 1
                and g['width'] >= self.width_divisor
                and g['width'] % self.width_divisor == 0
                for g, s in zip(groups, self.seed_groups))
        if ok and self.max_layers is not None:
            ok = count_layers(groups) <= self.max_layers
        if not ok:
            raise ValueError(
                f'{name!r} is not a candidate of this MacroSpace: give '
                f'{len(self.seed_groups)} groups "type-kK-wW-dD-sS" joined '
                f"by '_' with the seed's types and strides, kernels from "
                f'{self.kernels}, widths multiples of {self.width_divisor}, '
                f'depths >= 1 and at most {self.max_layers} layers, e.g. '
                f'{self.seed_name!r}.')
        return groups

    def names(self) -> List[str]:
        raise ValueError(
            'MacroSpace has no finite list of candidates (widths and depths '
            'compound under mutation); search it with RandomSearcher or '
            'EvolutionSearcher instead of ExhaustiveSearcher.')

    # ---------------------------------------------------------------- draws
    def _fits(self, groups) -> bool:
        return self.max_layers is None or count_layers(
            groups) <= self.max_layers

    def sample(self, rng: random.Random) -> str:
        """A random neighbour of the seed: each group gets a random kernel,
        width multiplier and depth change."""
        seed = self.decode(self.seed_name)
        for _ in range(100):
            groups = [
                dict(g, kernel=rng.choice(self.kernels),
                     width=self._round(g['width'] *
                                       rng.choice(self.width_multipliers)),
                     depth=max(1, g['depth'] + rng.randint(
                         -self.depth_delta, self.depth_delta)))
                for g in seed
            ]
            if self._fits(groups):
                return self.name(groups)
        return self.seed_name

    def mutations(self, name: str) -> dict:
        """``{(group index, 'kernel' | 'width' | 'depth'): [new values]}``:
        every single change ``mutate`` may draw."""
        groups = self.decode(name)
        layers = count_layers(groups)
        options = {}
        for i, g in enumerate(groups):
            options[(i, 'kernel')] = [k for k in self.kernels
                                      if k != g['kernel']]
            widths = []
            for m in self.width_multipliers:
                w = self._round(g['width'] * m)
                if w != g['width'] and w not in widths:
                    widths.append(w)
            options[(i, 'width')] = widths
            per_block = 2 if g['type'] == 'basic' else 3
            options[(i, 'depth')] = [
                g['depth'] + d
                for d in range(-self.depth_delta, self.depth_delta + 1)
                if d != 0 and g['depth'] + d >= 1 and (
                    self.max_layers is None
                    or layers + d * per_block <= self.max_layers)
            ]
        return {k: v for k, v in options.items() if v}

    def mutate(self, name: str, rng: random.Random) -> str:
        """Change the kernel, width or depth of one random group."""
        options = self.mutations(name)
        if not options:
            return name
        groups = self.decode(name)
        index = rng.choice(sorted({i for i, _ in options}))
        kind = rng.choice([k for i, k in options if i == index])
        groups[index][kind] = rng.choice(options[(index, kind)])
        return self.name(groups)

    def cost(self, name: str, input_shape: tuple) -> Cost:
        """Exact, from the groups: each conv + norm of the stem, blocks
        and shortcuts, the global pool and the classifier, counted as
        mmengine counts them (tested against its counter)."""
        stem = dict(dict(stem_channels=64, stem_kernel=3, stem_stride=1,
                         stem_pool=False), **self.stem)
        channels = stem['stem_channels']
        params, flops, hw = _conv(input_shape[0], channels,
                                  stem['stem_kernel'], stem['stem_stride'],
                                  tuple(input_shape[1:]))
        if stem['stem_pool']:  # 3x3/2 max pool: not counted by mmengine
            hw = tuple((x + 2 - 3) // 2 + 1 for x in hw)
        for g in self.decode(name):
            for j in range(g['depth']):
                p, f, hw = _block(g['type'], channels, g['width'],
                                  g['kernel'], g['stride'] if j == 0 else 1,
                                  hw, g.get('mid_width',
                                            max(1, g['width'] // 4)))
                params, flops, channels = params + p, flops + f, g['width']
        pool = channels * hw[0] * hw[1]
        fc = channels * self.num_classes
        return params + fc + self.num_classes, flops + pool + fc

    def to_config(self, name: str) -> dict:
        """The candidate's mmpretrain ``ImageClassifier`` config."""
        groups = self.decode(name)
        return dict(
            type='ImageClassifier',
            backbone=dict(type='MacroResNet', groups=groups, **self.stem),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=groups[-1]['width'],
                loss=dict(type='CrossEntropyLoss')))
