"""CIFAR ResNet with a depth per stage: the DisWOT "S1" search space's nets.

Dong et al., "DisWOT: Student Architecture Search for Distillation WithOut
Training", CVPR 2023, Sec. 4 (CIFAR ResNet-20-like space, depths {1,3,5,7}).
"""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch.nn.modules.batchnorm import _BatchNorm

from mmkd.registry import MODELS
from .cifar_resnet import BasicBlock


@MODELS.register_module()
class CIFARStageResNet(BaseBackbone):
    """:class:`CIFARResNet` with its own number of blocks in each stage.

    Same stem, blocks, strides, taps and init as ``CIFARResNet``; only the
    block count differs per stage. ``CIFARStageResNet(stage_blocks=(3, 3,
    3))`` is ResNet-20; DisWOT's S1 net "557" is ``stage_blocks=(5, 5, 7)``.

    Args:
        stage_blocks (Sequence[int]): Blocks in each of the 3 stages, >= 1.
        widths (Sequence[int]): 3 stage widths (stem = first) or 4 widths
            ``(stem, stage1, stage2, stage3)``. Defaults to ``(16, 32, 64)``.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``(2,)``.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config.

    Examples:
        >>> import torch
        >>> net = CIFARStageResNet(stage_blocks=(5, 5, 7))
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 32, 32))]
        [(1, 64, 8, 8)]
    """

    stage_names = ('layer1', 'layer2', 'layer3')

    def __init__(self,
                 stage_blocks: Sequence[int],
                 widths: Sequence[int] = (16, 32, 64),
                 out_indices: Union[int, Sequence[int]] = (2, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        stage_blocks = tuple(stage_blocks)
        if len(stage_blocks) != 3 or not all(
                isinstance(n, int) and n >= 1 for n in stage_blocks):
            raise ValueError(
                'CIFARStageResNet: stage_blocks must be 3 integers >= 1, '
                f'got {stage_blocks!r}.')
        if len(widths) not in (3, 4):
            raise ValueError(
                'CIFARStageResNet: widths must hold 3 stage widths or 4 '
                f'widths (stem, stage1, stage2, stage3), got {tuple(widths)}.')
        self.stage_blocks = stage_blocks
        self.stem_channels = widths[0]
        self.out_channels: Tuple[int, ...] = tuple(widths[-3:])
        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(
                    3, self.stem_channels, 3, 1, padding=1, bias=False),
                norm=build_norm_layer(norm_cfg, self.stem_channels)[1],
                relu=nn.ReLU()))
        in_channels = self.stem_channels
        for i, (name, out_channels, n) in enumerate(
                zip(self.stage_names, self.out_channels, stage_blocks)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(
                    BasicBlock(in_channels, out_channels, stride, norm_cfg))
                in_channels = out_channels
            self.add_module(name, nn.Sequential(*blocks))
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        for index in out_indices:
            if not -3 <= index < 3:
                raise ValueError(
                    f'CIFARStageResNet: out_indices entry {index} is out of '
                    f'range for the 3 stages {self.stage_names}.')
        self.out_indices = tuple(sorted({i % 3 for i in out_indices}))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the outputs of the stages in ``out_indices``."""
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
