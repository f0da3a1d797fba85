"""Huang & Wang, "Like What You Like: Knowledge Distill via Neuron
Selectivity Transfer", arXiv:1707.01219, 2017."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import check_feature_maps, pool_to_common_size


@DISTILL_LOSSES.register_module()
class NSTLoss(nn.Module):
    """Neuron selectivity transfer: squared MMD between the student's and
    the teacher's channel activation maps.

    Each channel's map is flattened over positions and L2-normalised,
    ``f_i = vec(F_i) / ||vec(F_i)||_2``; each model contributes ``C`` such
    samples. With the polynomial kernel ``k(x, y) = (x^T y + c)^d``,
    ``d = 2, c = 0`` (the paper's best choice):

    .. math::
        L = w \\cdot \\mathrm{mean}_n \\Big[
            \\frac{1}{C_T^2} \\sum_{i,i'} k(f^T_i, f^T_{i'})
          + \\frac{1}{C_S^2} \\sum_{j,j'} k(f^S_j, f^S_{j'})
          - \\frac{2}{C_S C_T} \\sum_{i,j} k(f^S_j, f^T_i) \\Big]

    The teacher-teacher term does not depend on the student; it is kept
    (without gradient) so the value is the full MMD, as RepDistiller's
    ``full_loss=True``. Channel counts may differ. When the spatial sizes
    differ, the larger map is adaptive-average-pooled to the smaller one,
    as RepDistiller does (it assumes square maps; here height and width are
    handled separately).

    RepDistiller setup: one ``NSTLoss`` per stage output (taps
    ``backbone.layer1``, ``layer2``, ``layer3``, its ``feat[1:-1]``),
    weight 50, no KD term (``-a 0 -b 50``).

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            uses 50).

    Examples:
        >>> loss = NSTLoss(loss_weight=50)
        >>> loss(torch.randn(2, 16, 8, 8), torch.randn(2, 64, 8, 8)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def poly_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Polynomial kernel ``(a b^T)^2`` between the rows of
        ``[N, C_a, D]`` and ``[N, C_b, D]``, shape ``[N, C_a, C_b]``."""
        return (a @ b.transpose(1, 2)).pow(2)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature map ``[N, C_S, H, W]``.
            feats_T (Tensor): Teacher feature map ``[N, C_T, H', W']``; no
                gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        check_feature_maps('NSTLoss', feats_S, feats_T)
        feats_T = feats_T.detach()
        feats_S, feats_T = pool_to_common_size(feats_S, feats_T)
        f_s = F.normalize(feats_S.flatten(2), dim=2)
        f_t = F.normalize(feats_T.flatten(2), dim=2)
        loss = (self.poly_kernel(f_t, f_t).mean() +
                self.poly_kernel(f_s, f_s).mean() -
                2 * self.poly_kernel(f_s, f_t).mean())
        return self.loss_weight * loss
