"""A search space over the arguments of any registered backbone (mmkd's or
mmpretrain's): widths, depths, expand ratios... as a cartesian product."""
import inspect
import itertools
import random
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.registry import DefaultScope

from mmkd.registry import MODELS, SEARCH_SPACES
from .base import SearchSpace


def format_value(value) -> str:
    """How a choice appears in a candidate's name (``1.0``, ``18``,
    ``(1, 2)``, ``ReLU``)."""
    return value if isinstance(value, str) else repr(value)


@SEARCH_SPACES.register_module()
class BackboneArgSpace(SearchSpace):
    """Every combination of some arguments of one backbone.

    A candidate is an ``ImageClassifier`` whose backbone is ``backbone``
    with one value of each argument in ``choices``. Its name is
    ``'arg=value'`` pairs in sorted argument order joined by ``','``, e.g.
    ``'depth=18,widen_factor=1.0'``. ``mutate`` gives one argument another
    of its values. The head's ``in_channels`` is found by building the
    candidate's backbone once and running a ``input_shape`` zero image
    through it in eval mode (its last output's channels); the result is
    cached per name and the global RNG state is left untouched.

    Args:
        backbone (dict): The backbone config, with its fixed arguments,
            e.g. ``dict(type='MobileNetV2', out_indices=(6, ))``.
        choices (dict): ``{argument: [values, ...]}``; each argument must
            be an argument of the backbone and not fixed in ``backbone``.
        num_classes (int): Classifier outputs. Defaults to 100.
        input_shape (Sequence[int]): ``(C, H, W)`` of the probe image.
            Defaults to ``(3, 32, 32)``.

    Examples:
        >>> space = BackboneArgSpace(
        ...     backbone=dict(type='ResNet', stem_channels=8,
        ...                   base_channels=8),
        ...     choices=dict(depth=[18, 50]), num_classes=10)
        >>> space.names()
        ['depth=18', 'depth=50']
        >>> space.to_config('depth=50')['head']['in_channels']
        256
    """

    def __init__(self,
                 backbone: dict,
                 choices: Dict[str, Sequence],
                 num_classes: int = 100,
                 input_shape: Sequence[int] = (3, 32, 32)) -> None:
        if not isinstance(backbone, dict) or 'type' not in backbone:
            raise TypeError('BackboneArgSpace.backbone must be a backbone '
                            "config dict with a 'type', got "
                            f'{backbone!r}.')
        with DefaultScope.overwrite_default_scope('mmkd'):
            cls = MODELS.get(backbone['type'])
        if cls is None:
            raise KeyError(
                f'BackboneArgSpace.backbone.type = {backbone["type"]!r} is '
                'not a registered mmkd or mmpretrain backbone; check the '
                'spelling (e.g. MobileNetV2, ResNet, CIFARResNet).')
        if not isinstance(choices, dict) or not choices or any(
                not isinstance(v, (list, tuple)) or not v
                for v in choices.values()):
            raise ValueError('BackboneArgSpace.choices must map argument '
                             'names to non-empty lists of values, got '
                             f'{choices!r}.')
        params = inspect.signature(cls.__init__).parameters
        takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
        known = [p for p in params if p != 'self' and params[p].kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
        for arg in list(choices) + [k for k in backbone if k != 'type']:
            if not takes_any and arg not in known:
                raise ValueError(
                    f'BackboneArgSpace: {arg!r} is not an argument of '
                    f'{backbone["type"]}; its arguments are {known}.')
        fixed = sorted(set(choices) & set(backbone))
        if fixed:
            raise ValueError(
                f'BackboneArgSpace: {fixed} are both fixed in backbone and '
                'searched in choices; remove them from one of the two.')
        self.backbone = dict(backbone)
        self.keys = tuple(sorted(choices))
        self.choices = {k: tuple(choices[k]) for k in self.keys}
        self._by_text: Dict[str, Dict[str, object]] = {}
        for k in self.keys:
            texts = [format_value(v) for v in self.choices[k]]
            if len(set(texts)) != len(texts):
                raise ValueError(
                    f'BackboneArgSpace.choices.{k} = {list(self.choices[k])}'
                    ' repeats a value; list each value once.')
            self._by_text[k] = dict(zip(texts, self.choices[k]))
        self.num_classes = num_classes
        self.input_shape = tuple(input_shape)
        self._in_channels: Dict[str, int] = {}

    # ---------------------------------------------------------------- names
    def name(self, values: Sequence) -> str:
        """The name of one value per argument (in sorted argument order)."""
        return ','.join(f'{k}={format_value(v)}'
                        for k, v in zip(self.keys, values))

    def _parse(self, text: str, index: int) -> Optional[Tuple]:
        if index == len(self.keys):
            return () if text == '' else None
        key = self.keys[index]
        prefix = ('' if index == 0 else ',') + key + '='
        if not text.startswith(prefix):
            return None
        text = text[len(prefix):]
        for value_text, value in self._by_text[key].items():
            if text.startswith(value_text):
                rest = self._parse(text[len(value_text):], index + 1)
                if rest is not None:
                    return (value, ) + rest
        return None

    def decode(self, name: str) -> dict:
        """``{argument: value}`` of a candidate."""
        values = self._parse(name, 0) if isinstance(name, str) else None
        if values is None:
            raise ValueError(
                f'{name!r} is not a candidate of this BackboneArgSpace: '
                "give 'arg=value' for each of "
                f'{list(self.keys)} in that order, joined by \',\', with '
                f'values from {dict(self.choices)}, e.g. '
                f'{self.name([v[0] for v in self.choices.values()])!r}.')
        return dict(zip(self.keys, values))

    def names(self) -> List[str]:
        """Every combination, in a fixed order."""
        return [
            self.name(values)
            for values in itertools.product(*self.choices.values())
        ]

    def sample(self, rng: random.Random) -> str:
        """A uniformly random combination."""
        return self.name([rng.choice(self.choices[k]) for k in self.keys])

    def mutate(self, name: str, rng: random.Random) -> str:
        """Give one random argument (with several values) another value."""
        args = self.decode(name)
        mutable = [k for k in self.keys if len(self.choices[k]) > 1]
        if not mutable:
            return name
        key = rng.choice(mutable)
        args[key] = rng.choice(
            [v for v in self.choices[key] if v != args[key]])
        return self.name([args[k] for k in self.keys])

    # ---------------------------------------------------------------- config
    def backbone_config(self, name: str) -> dict:
        """The candidate's backbone config."""
        return dict(self.backbone, **self.decode(name))

    def in_channels(self, name: str) -> int:
        """Channels of the backbone's last output (built once, cached)."""
        if name not in self._in_channels:
            cfg = self.backbone_config(name)
            try:
                with torch.random.fork_rng(devices=[]), \
                        DefaultScope.overwrite_default_scope('mmkd'):
                    net = MODELS.build(cfg)
                    net.eval()
                    with torch.no_grad():
                        outs = net(torch.zeros((1, ) + self.input_shape))
            except Exception as e:
                raise ValueError(
                    f'BackboneArgSpace: {cfg["type"]} with {name!r} fails to '
                    f'build or run on a {self.input_shape} input ({e}); '
                    'remove that value from choices or fix backbone.') from e
            out = outs[-1] if isinstance(outs, (tuple, list)) else outs
            if not isinstance(out, torch.Tensor) or out.dim() < 2:
                raise ValueError(
                    f'BackboneArgSpace: {cfg["type"]} with {name!r} does not '
                    'return feature maps [N, C, ...]; use a classification '
                    'backbone.')
            self._in_channels[name] = int(out.shape[1])
        return self._in_channels[name]

    def to_config(self, name: str) -> dict:
        """The candidate's mmpretrain ``ImageClassifier`` config."""
        return dict(
            type='ImageClassifier',
            backbone=self.backbone_config(name),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=self.num_classes,
                in_channels=self.in_channels(name),
                loss=dict(type='CrossEntropyLoss')))
