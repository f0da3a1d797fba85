"""DisWOT's similarity metrics as distillation losses (L_Ms, L_Mr).

Dong et al., "DisWOT: Student Architecture Search for Distillation WithOut
Training", CVPR 2023, Sec. 3.3 ("distillation with high-order knowledge");
methods.md section 1.4. DisWOT+ = CE + KL + L_Ms + L_Mr.
"""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES
from .utils import batch_similarity, channel_similarity, check_same_batch


@DISTILL_LOSSES.register_module()
class DisWOTSemanticLoss(nn.Module):
    """L_Ms: per-sample channel-similarity matrices of the pre-pooling maps.

    Each map ``[N, C, H, W]`` is reshaped to ``A_n`` of shape ``[C, H W]``;
    ``E_n = rownorm(A_n A_n^T)`` (``C x C``, each row L2-normalised), and

    .. math::
        L = w \\cdot \\frac{1}{C N} \\sum_n \\| E^T_n - E^S_n \\|_F^2

    This is the authors' ``channel_similarity`` (seed snippet) applied to
    feature maps; the paper writes the factor as ``1/C^2``. Spatial sizes
    may differ; channel counts must match (add a connector otherwise).

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = DisWOTSemanticLoss()
        >>> loss(torch.randn(4, 16, 8, 8), torch.randn(4, 16, 4, 4)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    similarity = staticmethod(channel_similarity)

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student map ``[N, C, H, W]``.
            feats_T (Tensor): Teacher map ``[N, C, H', W']``; no gradient
                flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if feats_S.shape[:2] != feats_T.shape[:2]:
            raise ValueError(
                f'DisWOTSemanticLoss: student {tuple(feats_S.shape[:2])} and '
                f'teacher {tuple(feats_T.shape[:2])} (batch, channels) '
                'differ; add a connector that maps the student to the '
                "teacher's channels.")
        n, c = feats_S.shape[:2]
        diff = self.similarity(feats_S) - self.similarity(feats_T.detach())
        return self.loss_weight * diff.pow(2).sum() / (c * n)


@DISTILL_LOSSES.register_module()
class DisWOTRelationLoss(nn.Module):
    """L_Mr: batch-relation matrices of the flattened pre-pooling maps.

    ``A`` is ``[N, D]`` (a flattened map), ``G = rownorm(A A^T)`` and

    .. math::
        L = w \\cdot \\frac{1}{N^2} \\| G^T - G^S \\|_F^2

    The same quantity as DisWOT's M_r and as SP (Tung & Mori 2019, see
    ``SPLoss``); only the batch size must match.

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = DisWOTRelationLoss()
        >>> loss(torch.randn(4, 16, 8, 8), torch.randn(4, 64, 4, 4)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

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
        check_same_batch('DisWOTRelationLoss', feats_S, feats_T)
        n = feats_S.shape[0]
        diff = batch_similarity(feats_T.detach()) - batch_similarity(feats_S)
        return self.loss_weight * diff.pow(2).sum() / (n * n)
