"""A ResNet described block group by block group: the nets of DisWOT's
Zen-NAS-style macro search space (``mmkd/search/spaces/macro.py``).

Dong et al., "DisWOT: Student Architecture Search for Distillation WithOut
Training", CVPR 2023 (ImageNet / CIFAR macro search); the space follows Lin
et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition",
ICCV 2021 (residual groups with a mutable kernel, width and depth).
"""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmkd.registry import MODELS
from .base import StagedBackbone

BLOCK_TYPES = ('basic', 'bottleneck')
GROUP_KEYS = ('type', 'kernel', 'width', 'depth', 'stride')
# conv layers in one block's main path (the 1x1 shortcut is not counted)
BLOCK_LAYERS = dict(basic=2, bottleneck=3)


def _projection(in_channels, out_channels, stride, norm_cfg):
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
        build_norm_layer(norm_cfg, out_channels)[1])


class MacroBasicBlock(nn.Module):
    """Two ``k x k`` convs and a residual: ``relu(norm2(conv2(relu(norm1(
    conv1(x))))) + shortcut(x))``; the shortcut is a 1x1 conv + norm when
    the stride or the width changes.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel (int): Odd kernel size of both convs.
        stride (int): Stride of ``conv1`` and of the shortcut.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int,
                 stride: int, norm_cfg: dict) -> None:
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel, stride,
                               padding=pad, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel, 1,
                               padding=pad, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.downsample = _projection(in_channels, out_channels, stride,
                                      norm_cfg)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.norm1(self.conv1(x)))
        return self.relu2(self.norm2(self.conv2(out)) + identity)


class MacroBottleneck(nn.Module):
    """1x1 (to ``mid_channels``) - ``k x k`` (stride) - 1x1 (to
    ``out_channels``) convs, each followed by a norm, and a residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel (int): Odd kernel size of the middle conv.
        stride (int): Stride of the middle conv and of the shortcut.
        norm_cfg (dict): Norm layer config.
        mid_channels (int): Bottleneck width.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int,
                 stride: int, norm_cfg: dict, mid_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, kernel, stride,
                               padding=kernel // 2, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.norm3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.downsample = _projection(in_channels, out_channels, stride,
                                      norm_cfg)
        self.relu3 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.norm1(self.conv1(x)))
        out = self.relu2(self.norm2(self.conv2(out)))
        return self.relu3(self.norm3(self.conv3(out)) + identity)


def check_groups(groups: Sequence[dict], field: str) -> List[dict]:
    """Validate block-group specs; return them as plain dicts.

    Each group is ``dict(type='basic' | 'bottleneck', kernel=odd int,
    width=int, depth=int >= 1, stride=int >= 1)``, plus an optional
    ``mid_width`` for bottleneck groups (default ``width // 4``).
    """
    if not isinstance(groups, (list, tuple)) or not groups:
        raise ValueError(f'{field} must be a non-empty list of block groups '
                         "like dict(type='basic', kernel=3, width=64, "
                         f'depth=2, stride=1), got {groups!r}.')
    checked = []
    for i, group in enumerate(groups):
        group = dict(group) if isinstance(group, dict) else group
        if not isinstance(group, dict) or set(GROUP_KEYS) - set(group) or \
                set(group) - set(GROUP_KEYS + ('mid_width', )):
            raise ValueError(
                f'{field}[{i}] = {group!r} must be a dict with the keys '
                f'{GROUP_KEYS} (and optionally mid_width).')
        if group['type'] not in BLOCK_TYPES:
            raise ValueError(f'{field}[{i}].type = {group["type"]!r}; use '
                             f'one of {BLOCK_TYPES}.')
        for key in ('kernel', 'width', 'depth', 'stride') + (
                ('mid_width', ) if 'mid_width' in group else ()):
            if not isinstance(group[key], int) or group[key] < 1:
                raise ValueError(f'{field}[{i}].{key} = {group[key]!r} must '
                                 'be an integer >= 1.')
        if group['kernel'] % 2 == 0:
            raise ValueError(f'{field}[{i}].kernel = {group["kernel"]} must '
                             'be odd (3, 5, 7...).')
        checked.append(group)
    return checked


def count_layers(groups: Sequence[dict]) -> int:
    """Weighted layers of a net: the stem conv, every block's main-path
    convs and the classifier (ResNet-18's groups give 18)."""
    return 2 + sum(BLOCK_LAYERS[g['type']] * g['depth'] for g in groups)


@MODELS.register_module()
class MacroResNet(StagedBackbone):
    """A stem and a list of residual block groups, each with its own block
    type, kernel size, width, depth and stride.

    Structure: stem = ``stem_kernel`` conv (``stem_stride``) + norm + ReLU
    (+ 3x3/2 max pool with ``stem_pool``); group ``i`` (``layer{i+1}``) is
    ``depth`` blocks of ``width`` output channels, the first with
    ``stride``. ``basic`` blocks are two ``k x k`` convs; ``bottleneck``
    blocks are 1x1 - ``k x k`` - 1x1 with ``mid_width`` (default
    ``width // 4``) inner channels. Shortcuts whose shape changes are 1x1
    conv + norm projections. Kaiming (fan-out) init.

    A CIFAR ResNet-18 (``preset='cifar_resnet18'`` of ``MacroSpace``) is
    ``stem_channels=64`` and four basic groups of depth 2, kernel 3, widths
    64/128/256/512, strides 1/2/2/2.

    Args:
        groups (Sequence[dict]): Block groups: ``dict(type, kernel, width,
            depth, stride)`` (+ ``mid_width`` for bottlenecks).
        stem_channels (int): Stem width. Defaults to 64.
        stem_kernel (int): Stem conv kernel. Defaults to 3.
        stem_stride (int): Stem conv stride. Defaults to 1.
        stem_pool (bool): Add a 3x3 stride-2 max pool to the stem (ImageNet
            ResNets). Defaults to False.
        in_channels (int): Image channels. Defaults to 3.
        out_indices (int | Sequence[int]): Groups whose outputs are
            returned. Defaults to ``-1`` (the last, pre-pooling map).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config.

    Examples:
        >>> import torch
        >>> net = MacroResNet(
        ...     groups=[dict(type='basic', kernel=5, width=16, depth=1,
        ...                  stride=1),
        ...             dict(type='bottleneck', kernel=3, width=32, depth=2,
        ...                  stride=2)],
        ...     stem_channels=16)
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 32, 32))]
        [(1, 32, 16, 16)]
    """

    def __init__(self,
                 groups: Sequence[dict],
                 stem_channels: int = 64,
                 stem_kernel: int = 3,
                 stem_stride: int = 1,
                 stem_pool: bool = False,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.groups = check_groups(groups, 'MacroResNet.groups')
        stem = OrderedDict(
            conv=nn.Conv2d(in_channels, stem_channels, stem_kernel,
                           stem_stride, padding=stem_kernel // 2,
                           bias=False),
            norm=build_norm_layer(norm_cfg, stem_channels)[1],
            relu=nn.ReLU())
        if stem_pool:
            stem['pool'] = nn.MaxPool2d(3, 2, padding=1)
        self.stem = nn.Sequential(stem)
        self.stage_names = tuple(f'layer{i + 1}'
                                 for i in range(len(self.groups)))
        self.out_channels: Tuple[int, ...] = tuple(g['width']
                                                   for g in self.groups)
        channels = stem_channels
        for name, g in zip(self.stage_names, self.groups):
            blocks = []
            for j in range(g['depth']):
                stride = g['stride'] if j == 0 else 1
                if g['type'] == 'basic':
                    block = MacroBasicBlock(channels, g['width'],
                                            g['kernel'], stride, norm_cfg)
                else:
                    block = MacroBottleneck(
                        channels, g['width'], g['kernel'], stride, norm_cfg,
                        g.get('mid_width', max(1, g['width'] // 4)))
                blocks.append(block)
                channels = g['width']
            self.add_module(name, nn.Sequential(*blocks))
        self._set_out_indices(out_indices)
        self._kaiming_init()

    @property
    def num_layers(self) -> int:
        """Number of weighted layers (stem, main-path convs, classifier)."""
        return count_layers(self.groups)
