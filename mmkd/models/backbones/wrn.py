"""Zagoruyko and Komodakis, "Wide Residual Networks", BMVC 2016."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmkd.registry import MODELS
from .base import StagedBackbone


class WideBasicBlock(nn.Module):
    """Pre-activation block of two 3x3 convs (WRN's ``B(3, 3)``).

    ``a = relu1(norm1(x))``,
    ``out = conv2(dropout(relu2(norm2(conv1(a))))) + shortcut``, where
    ``shortcut`` is ``x``, or ``shortcut(a)`` (a 1x1 conv) when the stride
    or the channel count changes, as in RepDistiller's ``wrn.py``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of ``conv1`` and of the shortcut conv.
        drop_rate (float): Dropout probability between the two convs; 0
            builds no dropout module.
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 drop_rate: float, norm_cfg: dict) -> None:
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu2 = nn.ReLU()
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else None
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, 1, padding=1, bias=False)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(
                in_channels, out_channels, 1, stride, bias=False)
        else:
            self.shortcut = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = self.relu1(self.norm1(x))
        identity = x if self.shortcut is None else self.shortcut(act)
        out = self.relu2(self.norm2(self.conv1(act)))
        if self.dropout is not None:
            out = self.dropout(out)
        return self.conv2(out) + identity


@MODELS.register_module()
class WideResNet(StagedBackbone):
    """Wide ResNet WRN-d-k for 32x32 inputs, as RepDistiller's ``wrn.py``.

    Structure: a 3x3 conv stem with 16 channels, then 3 stages of
    ``n = (d - 4) / 6`` pre-activation :class:`WideBasicBlock` with
    ``16k``, ``32k`` and ``64k`` channels (stride 1, 2, 2: 32x32, 16x16 and
    8x8 maps), then a final norm + ReLU, which belong to ``layer3`` so its
    output is ready for global pooling. The depth follows the paper's
    convention ``d = 6n + 4``.

    RepDistiller's ``wrn_16_1``, ``wrn_16_2``, ``wrn_40_1``, ``wrn_40_2``
    are ``WideResNet(depth=16, widen_factor=1)`` and so on; WRN-28-10 is
    ``WideResNet(depth=28, widen_factor=10)``.

    Tap names (every module runs once per forward; no ReLU is in-place):

    - ``stem``: the first conv's output (RepDistiller's ``f0``).
    - ``layer1``, ``layer2``: stage outputs (raw block sums, ``f1``,
      ``f2``); ``layer3``: the last stage after the final norm + ReLU.
    - ``layer{i}.{j}``: block ``j`` (0-based) of stage ``i``; inside it
      ``norm1``, ``relu1``, ``conv1``, ``norm2``, ``relu2``, ``dropout``
      (if ``drop_rate > 0``), ``conv2``, ``shortcut`` (if the shape
      changes). ``layer3.{n-1}`` is RepDistiller's ``f3`` (before the
      final norm).
    - ``layer3.norm``, ``layer3.relu``: the final norm (its output is
      RepDistiller's pre-activation ``f3``) and ReLU.

    Args:
        depth (int): ``6n + 4``: 10, 16, 22, 28, 40, ...
        widen_factor (int): Width multiplier ``k``. Defaults to 1.
        drop_rate (float): Dropout probability inside each block.
            Defaults to 0.
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(2,)``.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config. Without
            it the weights keep the reference init done in ``__init__``
            (Kaiming-normal fan-out convs, norm weight 1 and bias 0).

    Attributes:
        stage_names (tuple[str]): ``('layer1', 'layer2', 'layer3')``.
        out_channels (tuple[int]): ``(16k, 32k, 64k)``.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import WideResNet
        >>> model = WideResNet(depth=40, widen_factor=2)
        >>> model.out_channels
        (32, 64, 128)
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 128, 8, 8)]
    """

    stage_names = ('layer1', 'layer2', 'layer3')

    def __init__(self,
                 depth: int,
                 widen_factor: int = 1,
                 drop_rate: float = 0.0,
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f'WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, '
                f'28, 40, ...), got {depth!r}.')
        if not isinstance(widen_factor, int) or widen_factor < 1:
            raise ValueError(f'WideResNet: widen_factor must be a positive '
                             f'int, got {widen_factor!r}.')
        self.depth = depth
        self.widen_factor = widen_factor
        self.out_channels: Tuple[int, ...] = (16 * widen_factor,
                                              32 * widen_factor,
                                              64 * widen_factor)
        num_blocks = (depth - 4) // 6

        self.stem = nn.Conv2d(3, 16, 3, 1, padding=1, bias=False)
        in_channels = 16
        for i, (name, out_channels) in enumerate(
                zip(self.stage_names, self.out_channels)):
            layers = OrderedDict()
            for j in range(num_blocks):
                stride = 2 if i > 0 and j == 0 else 1
                layers[str(j)] = WideBasicBlock(in_channels, out_channels,
                                                stride, drop_rate, norm_cfg)
                in_channels = out_channels
            if i == len(self.stage_names) - 1:
                layers['norm'] = build_norm_layer(norm_cfg, out_channels)[1]
                layers['relu'] = nn.ReLU()
            self.add_module(name, nn.Sequential(layers))

        self._set_out_indices(out_indices)

        self._kaiming_init()
