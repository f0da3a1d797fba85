"""Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
CVPR 2018; the CIFAR variant of RepDistiller."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmkd.registry import MODELS
from .base import StagedBackbone


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise (3x3), linear project (1x1).

    ``out = norm3(conv3(relu2(norm2(conv2(relu1(norm1(conv1(x))))))))``,
    plus ``x`` when the stride is 1 and the channel count is unchanged.
    The 1x1 expansion is built even when ``expand_ratio`` is 1, as in the
    reference.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the depthwise conv.
        expand_ratio (int): Hidden channels = ``in_channels * expand_ratio``.
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 expand_ratio: int, norm_cfg: dict) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.conv1 = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, hidden)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            hidden, hidden, 3, stride, padding=1, groups=hidden, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, hidden)[1]
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.norm3 = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.norm1(self.conv1(x)))
        out = self.relu2(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        return x + out if self.use_residual else out


@MODELS.register_module()
class CIFARMobileNetV2(StagedBackbone):
    """MobileNetV2 for 32x32 inputs, as RepDistiller's ``mobilenetv2.py``.

    Structure: a stride-2 3x3 conv stem (``32w`` channels), then the 7 rows
    of the paper's Table 2 as stages ``layer1`` ... ``layer7``, each ``n``
    :class:`InvertedResidual` blocks (expansion ``t``, ``c * w`` output
    channels, stride ``s`` on the first block), then a 1x1 conv + norm +
    ReLU to 1280 channels (``1280w`` if ``w > 1``), which belongs to
    ``layer7`` so its output is ready for global pooling. Channel counts
    are truncated (``int(c * w)``) as in the reference, not rounded to a
    multiple of 8. A 32x32 input gives 16, 16, 8, 4, 4, 2 and 2 pixel maps.

    ==========  ====  ===  ===  ===
    stage       t     c    n    s
    ==========  ====  ===  ===  ===
    ``layer1``  1     16   1    1
    ``layer2``  T     24   2    1
    ``layer3``  T     32   3    2
    ``layer4``  T     64   4    2
    ``layer5``  T     96   3    1
    ``layer6``  T     160  3    2
    ``layer7``  T     320  1    1
    ==========  ====  ===  ===  ===

    RepDistiller's ``mobile_half`` (the "MobileNetV2" of the CRD tables) is
    ``CIFARMobileNetV2(widen_factor=0.5, expand_ratio=6)``, the default.

    Tap names (every module runs once per forward; no ReLU is in-place):

    - ``stem``: stem output after ReLU (RepDistiller's ``f0``);
      ``stem.conv``, ``stem.norm``, ``stem.relu``.
    - ``layer1`` ... ``layer7``: stage outputs. RepDistiller's ``f1``,
      ``f2``, ``f3``, ``f4`` are ``layer2``, ``layer3``, ``layer5`` and
      ``layer7.0``; ``layer7`` itself ends after the 1x1 conv + ReLU.
    - ``layer{i}.{j}``: block ``j`` (0-based) of stage ``i``; inside it
      ``conv1``, ``norm1``, ``relu1`` (expand), ``conv2``, ``norm2``,
      ``relu2`` (depthwise), ``conv3``, ``norm3`` (linear projection).
    - ``layer7.conv``, ``layer7.norm``, ``layer7.relu``: the final 1x1
      conv to 1280 channels, its norm and ReLU.

    Args:
        widen_factor (float): Width multiplier ``w``. Defaults to 0.5.
        expand_ratio (int): Expansion ``T`` of stages 2-7. Defaults to 6.
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(6,)``, the last stage.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config. Without
            it the weights keep the reference init done in ``__init__``
            (Kaiming-normal fan-out convs, norm weight 1 and bias 0).

    Attributes:
        stage_names (tuple[str]): ``('layer1', ..., 'layer7')``.
        out_channels (tuple[int]): Channels of each stage's output;
            ``(8, 12, 16, 32, 48, 80, 1280)`` for the default.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import CIFARMobileNetV2
        >>> model = CIFARMobileNetV2(out_indices=(1, 6))
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 12, 16, 16), (1, 1280, 2, 2)]
    """

    # (c, n, s) of each stage; layer1 expands by 1, the others by T.
    arch_settings = ((16, 1, 1), (24, 2, 1), (32, 3, 2), (64, 4, 2),
                     (96, 3, 1), (160, 3, 2), (320, 1, 1))
    stage_names = ('layer1', 'layer2', 'layer3', 'layer4', 'layer5',
                   'layer6', 'layer7')

    def __init__(self,
                 widen_factor: float = 0.5,
                 expand_ratio: int = 6,
                 out_indices: Union[int, Sequence[int]] = (6, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if widen_factor <= 0:
            raise ValueError(f'CIFARMobileNetV2: widen_factor must be '
                             f'positive, got {widen_factor!r}.')
        self.widen_factor = widen_factor
        self.expand_ratio = expand_ratio
        stem_channels = int(32 * widen_factor)
        last_channels = (
            int(1280 * widen_factor) if widen_factor > 1.0 else 1280)

        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(3, stem_channels, 3, 2, padding=1, bias=False),
                norm=build_norm_layer(norm_cfg, stem_channels)[1],
                relu=nn.ReLU()))
        in_channels = stem_channels
        out_channels = []
        for i, (name, (c, n, s)) in enumerate(
                zip(self.stage_names, self.arch_settings)):
            channels = int(c * widen_factor)
            t = 1 if i == 0 else expand_ratio
            layers = OrderedDict()
            for j in range(n):
                layers[str(j)] = InvertedResidual(in_channels, channels,
                                                  s if j == 0 else 1, t,
                                                  norm_cfg)
                in_channels = channels
            if i == len(self.stage_names) - 1:
                layers['conv'] = nn.Conv2d(
                    in_channels, last_channels, 1, bias=False)
                layers['norm'] = build_norm_layer(norm_cfg, last_channels)[1]
                layers['relu'] = nn.ReLU()
                channels = last_channels
            self.add_module(name, nn.Sequential(layers))
            out_channels.append(channels)
        self.out_channels: Tuple[int, ...] = tuple(out_channels)

        self._set_out_indices(out_indices)

        self._kaiming_init()
