"""Park et al., "Relational Knowledge Distillation", CVPR 2019."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import check_same_batch


@DISTILL_LOSSES.register_module()
class RKDLoss(nn.Module):
    """Relational KD: match pairwise distances and triplet angles.

    Both embeddings are flattened to ``[N, D]`` (``D`` may differ between
    student and teacher). Distance term: Euclidean distances of all pairs,
    each divided by the mean distance over the ``N(N-1)`` pairs ``i != j``:

    .. math::
        \\psi_D(i, j) = \\frac{\\|e_i - e_j\\|_2}{\\mu}, \\quad
        L_D = \\mathrm{mean}_{i,j}\\,
              \\ell_\\delta\\big(\\psi_D^S(i,j), \\psi_D^T(i,j)\\big)

    Angle term: for every vertex ``j`` and pair ``(i, k)`` the cosine of the
    angle between ``e_i - e_j`` and ``e_k - e_j``:

    .. math::
        \\psi_A(i, j, k) = \\Big\\langle
            \\frac{e_i - e_j}{\\|e_i - e_j\\|},
            \\frac{e_k - e_j}{\\|e_k - e_j\\|}\\Big\\rangle, \\quad
        L_A = \\mathrm{mean}_{i,j,k}\\,
              \\ell_\\delta\\big(\\psi_A^S, \\psi_A^T\\big)

    .. math::
        L = w \\, (w_D L_D + w_A L_A)

    ``l_delta`` is the Huber / smooth-L1 loss (threshold 1). As in the
    paper's reference and RepDistiller, the means run over all ``N^2``
    pairs (the zero diagonal included) and all ``N^3`` triplets (degenerate
    ones, where a difference vector is zero, give 0 on both sides), and a
    squared distance is clamped at ``eps`` before the square root.

    Args:
        distance_weight (float): ``w_D``. Defaults to 25 (paper,
            RepDistiller).
        angle_weight (float): ``w_A``. Defaults to 50 (paper, RepDistiller).
        eps (float): Lower clamp of squared distances. Defaults to 1e-12.
        loss_weight (float): Overall weight ``w``. Defaults to 1.0
            (RepDistiller's ``-b 1``).

    Examples:
        >>> loss = RKDLoss()
        >>> loss(torch.randn(8, 64), torch.randn(8, 256)).shape
        torch.Size([])
    """

    def __init__(self,
                 distance_weight: float = 25.,
                 angle_weight: float = 50.,
                 eps: float = 1e-12,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if distance_weight < 0 or angle_weight < 0:
            raise ValueError(
                'RKDLoss: distance_weight and angle_weight must be >= 0, got '
                f'{distance_weight} and {angle_weight}.')
        self.distance_weight = distance_weight
        self.angle_weight = angle_weight
        self.eps = eps
        self.loss_weight = loss_weight

    def distances(self, e: torch.Tensor) -> torch.Tensor:
        """``[N, D]`` -> pairwise distances ``[N, N]`` / their mean."""
        sq = e.pow(2).sum(dim=1)
        d2 = (sq[:, None] + sq[None, :] - 2 * e @ e.t()).clamp(min=self.eps)
        off_diag = ~torch.eye(len(e), dtype=torch.bool, device=e.device)
        d = d2.sqrt() * off_diag
        return d / d[off_diag].mean()

    @staticmethod
    def angles(e: torch.Tensor) -> torch.Tensor:
        """``[N, D]`` -> cosines ``[N, N, N]``, vertex first."""
        diff = F.normalize(e[None, :, :] - e[:, None, :], dim=2)
        return diff @ diff.transpose(1, 2)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student embedding ``[N, ...]`` (usually the
                pooled feature ``[N, D_S]``), flattened per sample.
            feats_T (Tensor): Teacher embedding ``[N, ...]``; no gradient
                flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        check_same_batch('RKDLoss', feats_S, feats_T)
        if feats_S.shape[0] < 2:
            raise ValueError('RKDLoss needs at least 2 samples per batch to '
                             'form distances; use a larger batch.')
        s = feats_S.flatten(1)
        t = feats_T.detach().flatten(1)
        loss_d = F.smooth_l1_loss(self.distances(s), self.distances(t))
        loss_a = F.smooth_l1_loss(self.angles(s), self.angles(t))
        return self.loss_weight * (self.distance_weight * loss_d +
                                   self.angle_weight * loss_a)
