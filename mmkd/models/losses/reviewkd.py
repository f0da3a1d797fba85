"""Chen et al., "Distilling Knowledge via Knowledge Review", CVPR 2021
(dvlab-research/ReviewKD)."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import EpochAware


def _as_map(x: torch.Tensor) -> torch.Tensor:
    return x[:, :, None, None] if x.dim() == 2 else x


@DISTILL_LOSSES.register_module()
class HCLLoss(EpochAware, nn.Module):
    """ReviewKD's hierarchical context loss, summed over levels.

    For each level, student map ``s`` (the fusion's output) and teacher map
    ``t`` of size ``h x h``: the MSE of the maps plus the MSE of their
    adaptive average pools to each size ``l`` in ``pool_sizes`` smaller
    than ``h``, the ``k``-th pooled term weighted ``2^-k``, normalised by
    the sum of the weights:

    .. math::
        \\mathrm{HCL}(s, t) = \\frac{\\mathrm{MSE}(s, t) + \\sum_{k}
            2^{-k} \\mathrm{MSE}(P_{l_k}(s), P_{l_k}(t))}
            {1 + \\sum_k 2^{-k}}, \\qquad
        L = w \\, f \\sum_{\\text{levels}} \\mathrm{HCL}(s_i, t_i)

    (an 8x8 level: pools 4, 2, 1, weights 1/2, 1/4, 1/8; a 1x1 level, e.g.
    the pooled vector: the plain MSE). ``f = min((e - 1) / warmup_epochs,
    1)`` in epoch ``e = 1, 2, ...``, the official ``min(1, epoch /
    kd_warm_up)`` with its 0-based epoch (the first epoch has no feature
    loss); ``LossEpochHook`` sets it, and it is 1 when built. The teacher
    side is detached.

    Args:
        pool_sizes (Sequence[int]): Pyramid sizes. Defaults to ``(4, 2, 1)``.
        warmup_epochs (int): Epochs of the linear warm-up; 0 disables it.
            Defaults to 20 (official CIFAR; ImageNet uses none).
        loss_weight (float): Weight ``w`` (the official ``--kd-loss-weight``,
            per pair). Defaults to 1.0.

    Examples:
        >>> loss = HCLLoss(loss_weight=0.6)
        >>> s = [torch.randn(2, 16, 8, 8), torch.randn(2, 64)]
        >>> t = [torch.randn(2, 16, 8, 8), torch.randn(2, 64)]
        >>> loss(s, t).shape
        torch.Size([])
    """

    def __init__(self, pool_sizes: Sequence[int] = (4, 2, 1),
                 warmup_epochs: int = 20, loss_weight: float = 1.0) -> None:
        super().__init__()
        if warmup_epochs < 0:
            raise ValueError('HCLLoss: warmup_epochs must be >= 0 (0 '
                             f'disables the warm-up), got {warmup_epochs}.')
        self.pool_sizes = tuple(pool_sizes)
        self.warmup_epochs = warmup_epochs
        self.loss_weight = loss_weight
        self.warmup_factor = 1.0

    def set_epoch(self, epoch: int) -> None:
        """Set ``warmup_factor = min((epoch - 1) / warmup_epochs, 1)``."""
        self.warmup_factor = 1.0 if self.warmup_epochs == 0 else min(
            (epoch - 1) / self.warmup_epochs, 1.0)

    def level_loss(self, s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """HCL of one level (no weight, no warm-up)."""
        loss = F.mse_loss(s, t)
        weight, total = 1.0, 1.0
        for size in self.pool_sizes:
            if size >= s.shape[-1]:
                continue
            weight /= 2
            loss = loss + weight * F.mse_loss(
                F.adaptive_avg_pool2d(s, size), F.adaptive_avg_pool2d(t, size))
            total += weight
        return loss / total

    def forward(self, feats_S: Union[torch.Tensor, List[torch.Tensor]],
                feats_T: Union[torch.Tensor, List[torch.Tensor]]
                ) -> torch.Tensor:
        """Args:
            feats_S (Tensor | list[Tensor]): Student levels (fusion output).
            feats_T (Tensor | list[Tensor]): Teacher levels, same order.
        """
        if isinstance(feats_S, torch.Tensor):
            feats_S, feats_T = [feats_S], [feats_T]
        if len(feats_S) != len(feats_T):
            raise ValueError(
                f'HCLLoss: {len(feats_S)} student levels but {len(feats_T)} '
                'teacher levels; list one teacher tensor per fused level.')
        loss = 0.
        for i, (s, t) in enumerate(zip(feats_S, feats_T)):
            s, t = _as_map(s), _as_map(t.detach())
            if s.shape != t.shape:
                raise ValueError(
                    f'HCLLoss: level {i}: student {tuple(s.shape)} vs '
                    f'teacher {tuple(t.shape)}; set the fusion\'s '
                    'out_channels (and out_sizes) to the teacher\'s.')
            loss = loss + self.level_loss(s, t)
        return self.loss_weight * self.warmup_factor * loss
