"""ShuffleNet V1 (Zhang et al., CVPR 2018) and V2 (Ma et al., ECCV 2018),
the CIFAR variants of RepDistiller."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpretrain.models.utils import channel_shuffle

from mmkd.registry import MODELS
from .base import StagedBackbone


class ShuffleV1Unit(nn.Module):
    """ShuffleNet V1 unit (Zhang et al. 2018, Fig. 2b/2c).

    ``r = norm3(conv3(norm2(conv2(shuffle(relu1(norm1(conv1(x))))))))``
    with grouped 1x1 convs ``conv1``/``conv3`` and a depthwise 3x3
    ``conv2``; the output is ``relu2(r + x)`` for stride 1 and
    ``relu2(cat(r, shortcut(x)))`` for stride 2, ``shortcut`` being a 3x3
    average pool. The bottleneck has ``out_channels // 4`` channels, as in
    the reference (``out_channels`` here is the residual branch's width).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels of the residual branch.
        stride (int): 1 or 2.
        groups (int): Groups of ``conv3``, and of ``conv1`` unless
            ``dense_first_conv``.
        dense_first_conv (bool): Make ``conv1`` an ordinary conv (the very
            first unit, whose input has only the stem's 24 channels).
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int,
                 groups: int, dense_first_conv: bool, norm_cfg: dict) -> None:
        super().__init__()
        mid_channels = out_channels // 4
        self.first_groups = 1 if dense_first_conv else groups
        self.conv1 = nn.Conv2d(
            in_channels, mid_channels, 1, groups=self.first_groups, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            mid_channels, mid_channels, 3, stride, padding=1,
            groups=mid_channels, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv3 = nn.Conv2d(
            mid_channels, out_channels, 1, groups=groups, bias=False)
        self.norm3 = build_norm_layer(norm_cfg, out_channels)[1]
        if stride == 2:
            self.shortcut = nn.AvgPool2d(3, stride=2, padding=1)
        else:
            self.shortcut = None
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.norm1(self.conv1(x)))
        if self.first_groups > 1:
            out = channel_shuffle(out, self.first_groups)
        out = self.norm2(self.conv2(out))
        out = self.norm3(self.conv3(out))
        if self.shortcut is None:
            return self.relu2(out + x)
        return self.relu2(torch.cat([out, self.shortcut(x)], dim=1))


@MODELS.register_module()
class CIFARShuffleNetV1(StagedBackbone):
    """ShuffleNet V1 for 32x32 inputs, as RepDistiller's ``ShuffleNetv1.py``.

    Structure: a 1x1 conv stem to 24 channels (no stride, no max-pool),
    then 3 stages of 4, 8 and 4 :class:`ShuffleV1Unit`, the first unit of
    each with stride 2 (16x16, 8x8 and 4x4 maps for a 32x32 input). Stage
    widths for ``groups`` g follow the paper's Table 1:

    ======  =================
    groups  stage widths
    ======  =================
    1       144, 288, 576
    2       200, 400, 800
    3       240, 480, 960
    ======  =================

    RepDistiller's ``ShuffleV1`` is ``CIFARShuffleNetV1(groups=3)``, the
    default. The paper's g = 4 and 8 do not divide evenly with the
    reference's bottleneck width (``out // 4``) and are not offered.

    Tap names (every module runs once per forward; no ReLU is in-place):

    - ``stem``: stem output after ReLU (RepDistiller's ``f0``);
      ``stem.conv``, ``stem.norm``, ``stem.relu``.
    - ``layer1``, ``layer2``, ``layer3``: stage outputs (``f1``-``f3``).
    - ``layer{i}.{j}``: unit ``j`` (0-based) of stage ``i``; inside it
      ``conv1``, ``norm1``, ``relu1``, ``conv2``, ``norm2``, ``conv3``,
      ``norm3``, ``shortcut`` (first unit only) and ``relu2``, whose
      input is the unit's pre-activation (RepDistiller's ``preact``).

    Args:
        groups (int): Groups of the 1x1 convs: 1, 2 or 3. Defaults to 3.
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(2,)``.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config.
            Without it the weights keep PyTorch's default init, as in the
            reference.

    Attributes:
        stage_names (tuple[str]): ``('layer1', 'layer2', 'layer3')``.
        out_channels (tuple[int]): The stage widths above.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import CIFARShuffleNetV1
        >>> model = CIFARShuffleNetV1(groups=3)
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 960, 4, 4)]
    """

    arch_settings = {
        1: (144, 288, 576),
        2: (200, 400, 800),
        3: (240, 480, 960),
    }
    num_units = (4, 8, 4)
    stage_names = ('layer1', 'layer2', 'layer3')

    def __init__(self,
                 groups: int = 3,
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if groups not in self.arch_settings:
            raise ValueError(f'CIFARShuffleNetV1: groups must be one of '
                             f'{sorted(self.arch_settings)}, got {groups!r}.')
        self.groups = groups
        self.out_channels: Tuple[int, ...] = self.arch_settings[groups]

        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(3, 24, 1, bias=False),
                norm=build_norm_layer(norm_cfg, 24)[1],
                relu=nn.ReLU()))
        in_channels = 24
        for i, (name, channels, num_units) in enumerate(
                zip(self.stage_names, self.out_channels, self.num_units)):
            units = []
            for j in range(num_units):
                # The first unit concatenates its input to a residual
                # branch of (channels - in_channels) channels.
                branch = channels - in_channels if j == 0 else channels
                units.append(
                    ShuffleV1Unit(
                        in_channels,
                        branch,
                        stride=2 if j == 0 else 1,
                        groups=groups,
                        dense_first_conv=i == 0 and j == 0,
                        norm_cfg=norm_cfg))
                in_channels = channels
            self.add_module(name, nn.Sequential(*units))

        self._set_out_indices(out_indices)


class ShuffleV2DownUnit(nn.Module):
    """ShuffleNet V2 spatial down-sampling unit (Ma et al. 2018, Fig. 3d).

    ``left = relu1(norm2(conv2(norm1(conv1(x)))))`` (depthwise 3x3 stride
    2, then 1x1), ``right = relu3(norm5(conv5(norm4(conv4(relu2(norm3(
    conv3(x))))))))`` (1x1, depthwise 3x3 stride 2, 1x1), and the output is
    ``shuffle(cat(left, right))`` with 2 groups.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (each branch gives half).
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: dict) -> None:
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(
            in_channels, in_channels, 3, 2, padding=1, groups=in_channels,
            bias=False)
        self.norm1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, mid)[1]
        self.relu1 = nn.ReLU()
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.norm3 = build_norm_layer(norm_cfg, mid)[1]
        self.relu2 = nn.ReLU()
        self.conv4 = nn.Conv2d(
            mid, mid, 3, 2, padding=1, groups=mid, bias=False)
        self.norm4 = build_norm_layer(norm_cfg, mid)[1]
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.norm5 = build_norm_layer(norm_cfg, mid)[1]
        self.relu3 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left = self.norm1(self.conv1(x))
        left = self.relu1(self.norm2(self.conv2(left)))
        right = self.relu2(self.norm3(self.conv3(x)))
        right = self.norm4(self.conv4(right))
        right = self.relu3(self.norm5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], dim=1), 2)


class ShuffleV2Unit(nn.Module):
    """ShuffleNet V2 basic unit (Ma et al. 2018, Fig. 3c).

    The input is split into halves ``x1, x2``;
    ``r = relu2(norm3(conv3(norm2(conv2(relu1(norm1(conv1(x2))))))))``
    (1x1, depthwise 3x3, 1x1) and the output is
    ``shuffle(cat(x1, r))`` with 2 groups.

    Args:
        channels (int): Input and output channels.
        norm_cfg (dict): Config of the norm layers.
    """

    def __init__(self, channels: int, norm_cfg: dict) -> None:
        super().__init__()
        half = channels // 2
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, half)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            half, half, 3, padding=1, groups=half, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, half)[1]
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.norm3 = build_norm_layer(norm_cfg, half)[1]
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=1)
        out = self.relu1(self.norm1(self.conv1(x2)))
        out = self.norm2(self.conv2(out))
        out = self.relu2(self.norm3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], dim=1), 2)


@MODELS.register_module()
class CIFARShuffleNetV2(StagedBackbone):
    """ShuffleNet V2 for 32x32 inputs, as RepDistiller's ``ShuffleNetv2.py``.

    Structure: a 1x1 conv stem to 24 channels (no stride, no max-pool),
    then 3 stages, each a :class:`ShuffleV2DownUnit` followed by 3, 7 and 3
    :class:`ShuffleV2Unit` (16x16, 8x8 and 4x4 maps for a 32x32 input),
    then a 1x1 conv + norm + ReLU, which belongs to ``layer3`` so its
    output is ready for global pooling. Widths (paper's Table 5):

    ============  ====================  ==========
    widen_factor  stage widths          final conv
    ============  ====================  ==========
    0.5           48, 96, 192           1024
    1.0           116, 232, 464         1024
    1.5           176, 352, 704         1024
    2.0           244, 488, 976         2048
    ============  ====================  ==========

    RepDistiller's ``ShuffleV2`` is ``CIFARShuffleNetV2(widen_factor=1.0)``,
    the default. (RepDistiller's own 2.0 entry reads 224 for the first
    stage; the paper's 244 is used here.)

    Tap names (every module runs once per forward; no ReLU is in-place):

    - ``stem``: stem output after ReLU (RepDistiller's ``f0``);
      ``stem.conv``, ``stem.norm``, ``stem.relu``.
    - ``layer1``, ``layer2``: stage outputs (``f1``, ``f2``); ``layer3``:
      the last stage after the final 1x1 conv + ReLU. RepDistiller's
      ``f3`` is ``layer3.3``.
    - ``layer{i}.0``: the down-sampling unit (``conv1`` ... ``conv5``,
      ``norm1`` ... ``norm5``, ``relu1`` ... ``relu3``);
      ``layer{i}.{j}``, ``j >= 1``: basic units (``conv1``, ``norm1``,
      ``relu1``, ``conv2``, ``norm2``, ``conv3``, ``norm3``, ``relu2``).
    - ``layer3.conv``, ``layer3.norm``, ``layer3.relu``: the final 1x1
      conv, its norm and ReLU.

    Args:
        widen_factor (float): 0.5, 1.0, 1.5 or 2.0. Defaults to 1.0.
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(2,)``.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config.
            Without it the weights keep PyTorch's default init, as in the
            reference.

    Attributes:
        stage_names (tuple[str]): ``('layer1', 'layer2', 'layer3')``.
        out_channels (tuple[int]): ``(116, 232, 1024)`` for the default.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import CIFARShuffleNetV2
        >>> model = CIFARShuffleNetV2(out_indices=(0, 1, 2))
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 116, 16, 16), (1, 232, 8, 8), (1, 1024, 4, 4)]
    """

    arch_settings = {
        0.5: ((48, 96, 192), 1024),
        1.0: ((116, 232, 464), 1024),
        1.5: ((176, 352, 704), 1024),
        2.0: ((244, 488, 976), 2048),
    }
    num_units = (3, 7, 3)
    stage_names = ('layer1', 'layer2', 'layer3')

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if widen_factor not in self.arch_settings:
            raise ValueError(
                f'CIFARShuffleNetV2: widen_factor must be one of '
                f'{sorted(self.arch_settings)}, got {widen_factor!r}.')
        self.widen_factor = widen_factor
        widths, last_channels = self.arch_settings[widen_factor]
        self.out_channels: Tuple[int, ...] = (*widths[:-1], last_channels)

        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(3, 24, 1, bias=False),
                norm=build_norm_layer(norm_cfg, 24)[1],
                relu=nn.ReLU()))
        in_channels = 24
        for i, (name, channels, num_units) in enumerate(
                zip(self.stage_names, widths, self.num_units)):
            layers = OrderedDict()
            layers['0'] = ShuffleV2DownUnit(in_channels, channels, norm_cfg)
            for j in range(1, num_units + 1):
                layers[str(j)] = ShuffleV2Unit(channels, norm_cfg)
            in_channels = channels
            if i == len(self.stage_names) - 1:
                layers['conv'] = nn.Conv2d(
                    channels, last_channels, 1, bias=False)
                layers['norm'] = build_norm_layer(norm_cfg, last_channels)[1]
                layers['relu'] = nn.ReLU()
            self.add_module(name, nn.Sequential(layers))

        self._set_out_indices(out_indices)
