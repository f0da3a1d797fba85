"""Passalis & Tefas, "Learning Deep Representations with Probabilistic
Knowledge Transfer", ECCV 2018."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES
from .utils import check_same_batch


@DISTILL_LOSSES.register_module()
class PKTLoss(nn.Module):
    """Probabilistic knowledge transfer with a cosine-similarity kernel.

    Each embedding (flattened to ``[N, D]``) is divided by its L2 norm plus
    ``eps``; the cosine kernel, shifted to ``[0, 1]``, becomes conditional
    probabilities by normalising each row:

    .. math::
        K_{ij} = \\tfrac{1}{2}\\big(\\cos(x_i, x_j) + 1\\big), \\quad
        p_{j|i} = \\frac{K_{ij}}{\\sum_k K_{ik}}

    .. math::
        L = w \\cdot \\frac{1}{N^2} \\sum_{i,j} p^T_{j|i}
            \\log\\frac{p^T_{j|i} + \\epsilon}{p^S_{j|i} + \\epsilon}

    The KL divergence is averaged over all ``N^2`` entries (the authors'
    code, also used by RepDistiller, with ``eps = 1e-7`` and weight 30000).
    The two embeddings may have different dimensions.

    Args:
        eps (float): Stabiliser of the norms and of the KL. Defaults to
            1e-7.
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            configs use 30000).

    Examples:
        >>> loss = PKTLoss(loss_weight=30000)
        >>> loss(torch.randn(8, 64), torch.randn(8, 256)).shape
        torch.Size([])
    """

    def __init__(self, eps: float = 1e-7, loss_weight: float = 1.0) -> None:
        super().__init__()
        if eps <= 0:
            raise ValueError(f'PKTLoss: eps must be positive, got {eps}.')
        self.eps = eps
        self.loss_weight = loss_weight

    def probabilities(self, feats: torch.Tensor) -> torch.Tensor:
        """``[N, ...]`` -> conditional probabilities ``[N, N]``."""
        x = feats.flatten(1)
        x = x / (x.norm(dim=1, keepdim=True) + self.eps)
        k = (x @ x.t() + 1) / 2
        return k / k.sum(dim=1, keepdim=True)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student embedding ``[N, ...]`` (usually the
                pooled feature), flattened per sample.
            feats_T (Tensor): Teacher embedding ``[N, ...]``; no gradient
                flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        check_same_batch('PKTLoss', feats_S, feats_T)
        p_s = self.probabilities(feats_S)
        p_t = self.probabilities(feats_T.detach())
        kl = p_t * torch.log((p_t + self.eps) / (p_s + self.eps))
        return self.loss_weight * kl.mean()
