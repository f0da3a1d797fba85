"""Tung & Mori, "Similarity-Preserving Knowledge Distillation", ICCV 2019."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES
from .utils import batch_similarity, check_same_batch


@DISTILL_LOSSES.register_module()
class SPLoss(nn.Module):
    """Similarity-preserving loss: match the batch's pairwise similarities.

    Each feature is flattened to ``A`` of shape ``[N, D]``; its batch Gram
    ``A A^T`` (``N x N``) is L2-normalised row by row:

    .. math::
        G = \\mathrm{rownorm}(A A^T), \\qquad
        L = w \\cdot \\frac{1}{N^2} \\, \\| G_T - G_S \\|_F^2

    Only the batch size must match: channels and spatial sizes of the two
    features may differ. RepDistiller uses the last stage's output
    (pre-pooling) and weight 3000.

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            configs use 3000).

    Examples:
        >>> loss = SPLoss(loss_weight=3000)
        >>> loss(torch.randn(4, 16, 8, 8), torch.randn(4, 64, 4, 4)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    gram = staticmethod(batch_similarity)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature ``[N, ...]``.
            feats_T (Tensor): Teacher feature ``[N, ...]``; no gradient
                flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        check_same_batch('SPLoss', feats_S, feats_T)
        n = feats_S.shape[0]
        diff = self.gram(feats_T.detach()) - self.gram(feats_S)
        return self.loss_weight * diff.pow(2).sum() / (n * n)
