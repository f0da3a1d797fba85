"""Zagoruyko & Komodakis, "Paying More Attention to Attention: Improving the
Performance of Convolutional Neural Networks via Attention Transfer",
ICLR 2017."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import check_feature_maps, pool_to_common_size


@DISTILL_LOSSES.register_module()
class ATLoss(nn.Module):
    """Attention transfer between one student and one teacher feature map.

    The spatial attention map of a feature ``F`` of shape ``[N, C, H, W]`` is
    the channel mean of ``|F|^p``, flattened and L2-normalised per sample:

    .. math::
        a(F) = \\frac{q}{\\|q\\|_2}, \\quad
        q = \\mathrm{vec}\\Big(\\frac{1}{C}\\sum_c |F_c|^p\\Big)
        \\in \\mathbb{R}^{HW}

    .. math::
        L = w \\cdot \\frac{1}{N \\, HW} \\sum_{n, j}
            \\big(a(F_S)_{n,j} - a(F_T)_{n,j}\\big)^2

    This is the form of RepDistiller (mean of the squared difference over
    batch and positions, weight 1000 summed over the stages). The paper
    writes ``beta/2 * || a_S - a_T ||_p`` per layer (the norm, not its
    square); the code form is what the published numbers used.

    Channel counts may differ. When the spatial sizes differ, the larger
    *feature map* is adaptive-average-pooled to the smaller one's size
    before the attention map is taken, as RepDistiller does (it assumes
    square maps; here height and width are handled separately). Several
    layers are several loss entries in the distiller's config.

    Args:
        p (float): Power of ``|F|``. Defaults to 2 (the paper's choice).
        reduction (str): ``'mean'`` (over batch and positions), ``'sum'`` or
            ``'none'`` (``[N, HW]`` squared differences). Defaults to
            ``'mean'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            configs use 1000).

    Examples:
        >>> loss = ATLoss(loss_weight=1000)
        >>> loss(torch.randn(2, 16, 8, 8), torch.randn(2, 64, 16, 16)).shape
        torch.Size([])
    """

    _reductions = ('mean', 'sum', 'none')

    def __init__(self,
                 p: float = 2.,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if p <= 0:
            raise ValueError(f'ATLoss: p must be positive, got {p}.')
        if reduction not in self._reductions:
            raise ValueError(f'ATLoss: reduction must be one of '
                             f'{self._reductions}, got {reduction!r}.')
        self.p = p
        self.reduction = reduction
        self.loss_weight = loss_weight

    def attention(self, feats: torch.Tensor) -> torch.Tensor:
        """``[N, C, H, W]`` -> L2-normalised attention map ``[N, H*W]``."""
        q = feats.abs().pow(self.p).mean(dim=1).flatten(1)
        return F.normalize(q, dim=1)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature map ``[N, C_S, H_S, W_S]``.
            feats_T (Tensor): Teacher feature map ``[N, C_T, H_T, W_T]``;
                no gradient flows into it.

        Returns:
            Tensor: The weighted loss (a scalar unless ``reduction='none'``).
        """
        check_feature_maps('ATLoss', feats_S, feats_T)
        feats_T = feats_T.detach()
        feats_S, feats_T = pool_to_common_size(feats_S, feats_T)
        diff = (self.attention(feats_S) - self.attention(feats_T)).pow(2)
        if self.reduction == 'mean':
            loss = diff.mean()
        elif self.reduction == 'sum':
            loss = diff.sum()
        else:
            loss = diff
        return self.loss_weight * loss
