"""Zhang et al., "Deep Mutual Learning", CVPR 2018: a peer's own CE."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class PeerCELoss(nn.Module):
    """Cross-entropy of a peer that is not the distiller's student.

    In mutual learning (``DMLDistiller``) every peer trains on the labels;
    the student's cross-entropy is its own loss (``student.loss``), the
    other peers' are this loss, ``w CE(z, y)`` averaged over the batch.

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """``preds``: the peer's logits ``[N, K]``; ``gt_labels``: ``[N]``
        class indices or ``[N, K]`` soft labels."""
        return self.loss_weight * F.cross_entropy(preds, gt_labels)
