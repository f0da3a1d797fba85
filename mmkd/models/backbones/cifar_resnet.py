"""He et al., "Deep Residual Learning for Image Recognition", CVPR 2016."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmkd.registry import MODELS
from .base import StagedBackbone


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (He et al. 2016, Fig. 2).

    ``out = relu2(norm2(conv2(relu1(norm1(conv1(x))))) + shortcut(x))``,
    where ``shortcut`` is the identity, or ``downsample`` (1x1 conv + norm)
    when the stride or the channel count changes.

    The input of ``relu2`` is the block's pre-activation (RepDistiller's
    ``preact`` feature).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of ``conv1`` and of the projection shortcut.
            Defaults to 1.
        norm_cfg (dict): Config of the norm layers. Defaults to
            ``dict(type='BN')``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 norm_cfg: dict = dict(type='BN')) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.norm1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.norm2 = build_norm_layer(norm_cfg, out_channels)[1]
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                build_norm_layer(norm_cfg, out_channels)[1])
        else:
            self.downsample = None
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return self.relu2(out + identity)


@MODELS.register_module()
class CIFARResNet(StagedBackbone):
    """ResNet for 32x32 inputs (He et al. 2016, Sec. 4.2), as RepDistiller.

    Structure: a 3x3 conv stem, then 3 stages of ``n`` :class:`BasicBlock`
    each, the first block of stages 2 and 3 having stride 2, so a 32x32
    input gives 32x32, 16x16 and 8x8 maps. Depth counts the stem, the
    ``2 * 3n`` convs of the blocks and the classifier: ``depth = 6n + 2``.
    A shortcut whose shape changes is a 1x1 conv + norm projection (not
    the paper's zero-padding "option A"), as in RepDistiller's ``resnet.py``.

    ``widths[0]`` is always the stem width. Give 3 widths for the plain
    CIFAR ResNets (stem = first stage) or 4 widths, RepDistiller's
    ``num_filters``, for a stem narrower than the first stage:

    ==============  =====  ======================
    RepDistiller    depth  widths
    ==============  =====  ======================
    ``resnet20``    20     ``(16, 32, 64)``
    ``resnet110``   110    ``(16, 32, 64)``
    ``resnet8x4``   8      ``(32, 64, 128, 256)``
    ``resnet32x4``  32     ``(32, 64, 128, 256)``
    ==============  =====  ======================

    Tap names (module paths inside the backbone; every module runs once
    per forward, and no ReLU is in-place, so a tapped tensor is never
    overwritten later):

    - ``stem``: stem output after ReLU (RepDistiller's ``f0``);
      ``stem.conv``, ``stem.norm``, ``stem.relu``.
    - ``layer1``, ``layer2``, ``layer3``: stage outputs after the last
      ReLU (``f1``-``f3``), 32x32, 16x16 and 8x8 for a 32x32 input.
    - ``layer{i}.{j}``: block ``j`` (0-based) of stage ``i``; inside it
      ``conv1``, ``norm1``, ``relu1``, ``conv2``, ``norm2``, ``relu2`` and
      ``downsample`` (first block of a stage whose shape changes). The
      input of ``layer{i}.{n-1}.relu2`` is the stage's pre-activation.

    Args:
        depth (int): ``6n + 2``: 8, 14, 20, 32, 44, 56, 110, ...
        widths (Sequence[int]): 3 stage widths (the stem has ``widths[0]``
            channels) or 4 widths ``(stem, stage1, stage2, stage3)``.
            Defaults to ``(16, 32, 64)``.
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(2,)``, the last stage.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config, e.g.
            a ``Pretrained`` checkpoint. Without it the weights keep the
            reference init done in ``__init__`` (Kaiming-normal fan-out
            convs, norm weight 1 and bias 0).

    Attributes:
        stage_names (tuple[str]): ``('layer1', 'layer2', 'layer3')``.
        out_channels (tuple[int]): Channels of each stage's output.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import CIFARResNet
        >>> model = CIFARResNet(depth=20)
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 64, 8, 8)]
        >>> model = CIFARResNet(
        ...     depth=8, widths=(32, 64, 128, 256), out_indices=(0, 1, 2))
        >>> model.out_channels
        (64, 128, 256)
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 64, 32, 32), (1, 128, 16, 16), (1, 256, 8, 8)]
    """

    stage_names = ('layer1', 'layer2', 'layer3')

    def __init__(self,
                 depth: int,
                 widths: Sequence[int] = (16, 32, 64),
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if (not isinstance(depth, int) or depth < 8 or (depth - 2) % 6):
            raise ValueError(
                f'CIFARResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, '
                f'32, 44, 56, 110, ...), got {depth!r}.')
        if len(widths) not in (3, 4):
            raise ValueError(
                f'CIFARResNet: widths must hold 3 stage widths or 4 widths '
                f'(stem, stage1, stage2, stage3), got {tuple(widths)}.')
        self.depth = depth
        self.stem_channels = widths[0]
        self.out_channels: Tuple[int, ...] = tuple(widths[-3:])
        num_blocks = (depth - 2) // 6

        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(
                    3, self.stem_channels, 3, 1, padding=1, bias=False),
                norm=build_norm_layer(norm_cfg, self.stem_channels)[1],
                relu=nn.ReLU()))
        in_channels = self.stem_channels
        for i, (name, out_channels) in enumerate(
                zip(self.stage_names, self.out_channels)):
            blocks = []
            for j in range(num_blocks):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(
                    BasicBlock(in_channels, out_channels, stride, norm_cfg))
                in_channels = out_channels
            self.add_module(name, nn.Sequential(*blocks))

        self._set_out_indices(out_indices)

        self._kaiming_init()
