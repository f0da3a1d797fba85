"""What every backbone of the CIFAR zoo shares: a stem, named stages, and a
forward that returns the outputs of the stages in ``out_indices``."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch.nn.modules.batchnorm import _BatchNorm


class StagedBackbone(BaseBackbone):
    """Base class: subclasses build ``self.stem`` and one module per name in
    ``self.stage_names``, then call ``self._set_out_indices()``."""

    stage_names: Tuple[str, ...] = ()

    def _set_out_indices(self, out_indices: Union[int, Sequence[int]]) -> None:
        """Validate ``out_indices`` (negative values count from the end)."""
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        num_stages = len(self.stage_names)
        for index in out_indices:
            if not -num_stages <= index < num_stages:
                raise ValueError(
                    f'{type(self).__name__}: out_indices entry {index} is '
                    f'out of range for the {num_stages} stages '
                    f'{self.stage_names}.')
        self.out_indices = tuple(sorted({i % num_stages for i in out_indices}))

    def _kaiming_init(self, conv_bias_zero: bool = False) -> None:
        """Kaiming-normal (fan-out) convolutions, norm weight 1 and bias 0,
        as in the reference CIFAR models."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(
                    m.weight, mode='fan_out', nonlinearity='relu')
                if conv_bias_zero and m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run the stem and the stages.

        Args:
            x (Tensor): Images, shape ``[N, 3, H, W]``.

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
