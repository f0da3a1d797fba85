"""Ahn et al., "Variational Information Distillation for Knowledge
Transfer", CVPR 2019."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import check_same_batch, pool_to_common_size


@DISTILL_LOSSES.register_module()
class VIDLoss(nn.Module):
    """Variational information distillation: Gaussian likelihood of the
    teacher feature under a student-predicted mean and a learned variance.

    The teacher feature ``t`` is modelled as a Gaussian whose mean is a
    regression of the student feature, ``mu = r(s)``, and whose variance is
    one learned value per teacher channel:

    .. math::
        \\sigma_c^2 = \\log(1 + e^{\\alpha_c}) + \\epsilon

    .. math::
        L = w \\cdot \\frac{1}{N C H W} \\sum_{n,c,h,w} \\frac{1}{2}
            \\Big(\\log \\sigma_c^2 +
            \\frac{(t_{nchw} - \\mu_{nchw})^2}{\\sigma_c^2}\\Big)

    (the negative log-likelihood without its constant). ``r`` is
    1x1 conv - ReLU - 1x1 conv - ReLU - 1x1 conv, without biases, as in
    the authors' code and RepDistiller; ``alpha`` starts at
    ``softplus^{-1}(init_pred_var - eps)`` so that the initial variance is
    ``init_pred_var``. The loss owns ``r`` and ``alpha``; they sit in the
    distiller's ``distill_losses`` and train with the student.

    When the spatial sizes differ, the larger map is adaptive-average
    pooled to the smaller one before the regressor, as RepDistiller does
    (it assumes square maps; here height and width are handled separately).

    RepDistiller setup: one ``VIDLoss`` per stage output (taps
    ``backbone.layer1``, ``layer2``, ``layer3`` of both models, i.e. its
    ``feat[1:-1]``), ``mid_channels = out_channels =`` teacher channels,
    weight 1 each, no KD term (``-a 0 -b 1``).

    Args:
        in_channels (int): Student channels.
        mid_channels (int): Hidden channels of the regressor (RepDistiller
            uses the teacher's channels).
        out_channels (int): Teacher channels.
        init_pred_var (float): Initial variance. Defaults to 5.0.
        eps (float): Variance floor. Defaults to 1e-5.
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = VIDLoss(16, 64, 64)
        >>> loss(torch.randn(2, 16, 8, 8), torch.randn(2, 64, 8, 8)).shape
        torch.Size([])
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 init_pred_var: float = 5.0,
                 eps: float = 1e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if init_pred_var <= eps:
            raise ValueError(f'VIDLoss: init_pred_var must exceed eps={eps}, '
                             f'got {init_pred_var}.')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.eps = eps
        self.loss_weight = loss_weight
        self.regressor = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 1, bias=False), nn.ReLU(),
            nn.Conv2d(mid_channels, mid_channels, 1, bias=False), nn.ReLU(),
            nn.Conv2d(mid_channels, out_channels, 1, bias=False))
        # inverse softplus, so that softplus(alpha) + eps == init_pred_var
        alpha = math.log(math.expm1(init_pred_var - eps))
        self.alpha = nn.Parameter(torch.full((out_channels, ), alpha))

    def variance(self) -> torch.Tensor:
        """Per-channel variance ``softplus(alpha) + eps``, shape ``[C_T]``."""
        return F.softplus(self.alpha) + self.eps

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature ``[N, in_channels, H, W]``.
            feats_T (Tensor): Teacher feature ``[N, out_channels, H', W']``;
                no gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if feats_S.dim() != 4 or feats_T.dim() != 4:
            raise ValueError(
                f'VIDLoss expects [N, C, H, W] feature maps, got student '
                f'{tuple(feats_S.shape)} and teacher {tuple(feats_T.shape)}; '
                'tap a convolutional stage (e.g. backbone.layer2).')
        if feats_S.shape[1] != self.in_channels:
            raise ValueError(
                f'VIDLoss: student feature {tuple(feats_S.shape)} has '
                f'{feats_S.shape[1]} channels but in_channels='
                f'{self.in_channels}; set in_channels={feats_S.shape[1]}.')
        if feats_T.shape[1] != self.out_channels:
            raise ValueError(
                f'VIDLoss: teacher feature {tuple(feats_T.shape)} has '
                f'{feats_T.shape[1]} channels but out_channels='
                f'{self.out_channels}; set out_channels={feats_T.shape[1]}.')
        check_same_batch('VIDLoss', feats_S, feats_T)
        feats_T = feats_T.detach()
        feats_S, feats_T = pool_to_common_size(feats_S, feats_T)
        mean = self.regressor(feats_S)
        var = self.variance().to(mean.dtype).view(1, -1, 1, 1)
        nll = 0.5 * (var.log() + (feats_T - mean).pow(2) / var)
        return self.loss_weight * nll.mean()
