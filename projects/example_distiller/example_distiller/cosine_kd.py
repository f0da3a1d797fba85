"""An example plugin: a distillation loss that lives outside mmkd."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class CosineLogitLoss(nn.Module):
    """Match the direction of the student's logits to the teacher's.

    .. math::
        L = w \\cdot \\frac{1}{N} \\sum_i \\big(1 - \\cos(z_S^i, z_T^i)\\big)

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        cos = F.cosine_similarity(preds_S, preds_T.detach(), dim=1)
        return self.loss_weight * (1 - cos).mean()
