"""Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", ICLR 2015; the CIFAR variant of RepDistiller."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer

from mmkd.registry import MODELS
from .base import StagedBackbone


@MODELS.register_module()
class CIFARVGG(StagedBackbone):
    """VGG with norm layers for 32x32 inputs, as RepDistiller's ``vgg.py``.

    Structure: 5 stages ``block0`` ... ``block4``, each a run of
    (3x3 conv with bias, norm, ReLU) units, joined by 2x2 max-pools
    ``pool0`` ... ``pool2``; a 32x32 input gives 32, 16, 8, 4 and 4 pixel
    maps, the last with 512 channels. On 64x64 inputs (Tiny-ImageNet) a
    fourth max-pool runs before ``block4``, as in the reference; it is
    functional (no module), so every module runs exactly once. The
    classifier of the reference (global average pool + one linear layer)
    is left to the neck and head. Convs per stage (``arch_settings``):

    =====  ===================  ===================================
    depth  column               channels of the convs of each stage
    =====  ===================  ===================================
    8      RepDistiller's 'S'   ``64 | 128 | 256 | 512 | 512``
    11     paper's A            ``64 | 128 | 256 x2 | 512 x2 | 512 x2``
    13     paper's B            ``64 x2 | 128 x2 | 256 x2 | 512 x2 | 512 x2``
    16     paper's D            ``64 x2 | 128 x2 | 256 x3 | 512 x3 | 512 x3``
    19     paper's E            ``64 x2 | 128 x2 | 256 x4 | 512 x4 | 512 x4``
    =====  ===================  ===================================

    Tap names (every module runs once per forward; no ReLU is in-place):

    - ``block0`` ... ``block4``: stage outputs after the last ReLU
      (RepDistiller's ``f0`` ... ``f4``).
    - ``block{i}.conv{k}``, ``block{i}.norm{k}``, ``block{i}.relu{k}``:
      unit ``k`` (1-based) of stage ``i``; the output of the last
      ``norm{k}`` of a stage is its pre-activation (``f{i}_pre``).
    - ``pool0``, ``pool1``, ``pool2``: the max-pools after ``block0`` to
      ``block2``.

    Args:
        depth (int): 8, 11, 13, 16 or 19. RepDistiller's ``vgg8``,
            ``vgg11``, ``vgg13`` ... (its ``model_dict`` maps those to
            the ``_bn`` variants this class builds).
        out_indices (int | Sequence[int]): Stages whose outputs
            :meth:`forward` returns, 0-based, negatives allowed. Defaults
            to ``(4,)``.
        norm_cfg (dict): Config of every norm layer. Defaults to
            ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): mmengine init config. Without
            it the weights keep the reference init done in ``__init__``
            (Kaiming-normal fan-out convs with zero bias, norm weight 1 and
            bias 0).

    Attributes:
        stage_names (tuple[str]): ``('block0', ..., 'block4')``.
        out_channels (tuple[int]): ``(64, 128, 256, 512, 512)``.

    Examples:
        >>> import torch
        >>> from mmkd.models.backbones import CIFARVGG
        >>> model = CIFARVGG(depth=13, out_indices=(3, 4))
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 32, 32))]
        [(1, 512, 4, 4), (1, 512, 4, 4)]
    """

    arch_settings = {
        8: ((64, ), (128, ), (256, ), (512, ), (512, )),
        11: ((64, ), (128, ), (256, 256), (512, 512), (512, 512)),
        13: ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
        16: ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512),
             (512, 512, 512)),
        19: ((64, 64), (128, 128), (256, 256, 256, 256),
             (512, 512, 512, 512), (512, 512, 512, 512)),
    }
    stage_names = ('block0', 'block1', 'block2', 'block3', 'block4')

    def __init__(self,
                 depth: int,
                 out_indices: Union[int, Sequence[int]] = (4, ),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'CIFARVGG: depth must be one of '
                             f'{sorted(self.arch_settings)}, got {depth!r}.')
        self.depth = depth
        stages = self.arch_settings[depth]
        self.out_channels: Tuple[int, ...] = tuple(s[-1] for s in stages)

        in_channels = 3
        for name, channels in zip(self.stage_names, stages):
            layers = OrderedDict()
            for k, out_channels in enumerate(channels, 1):
                layers[f'conv{k}'] = nn.Conv2d(
                    in_channels, out_channels, 3, padding=1)
                layers[f'norm{k}'] = build_norm_layer(norm_cfg,
                                                      out_channels)[1]
                layers[f'relu{k}'] = nn.ReLU()
                in_channels = out_channels
            self.add_module(name, nn.Sequential(layers))
        self.pool0 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)

        self._set_out_indices(out_indices)

        self._kaiming_init(conv_bias_zero=True)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run the 5 stages and the pools between them.

        Args:
            x (Tensor): Images, shape ``[N, 3, H, W]``.

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        input_height = x.shape[2]
        feats = [self.block0(x)]
        feats.append(self.block1(self.pool0(feats[-1])))
        feats.append(self.block2(self.pool1(feats[-1])))
        feats.append(self.block3(self.pool2(feats[-1])))
        x = feats[-1]
        if input_height == 64:
            x = F.max_pool2d(x, kernel_size=2, stride=2)
        feats.append(self.block4(x))
        return tuple(feats[i] for i in self.out_indices)
