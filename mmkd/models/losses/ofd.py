"""Heo et al., "A Comprehensive Overhaul of Feature Distillation", ICCV 2019
(clovaai/overhaul-distillation)."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class OFDLoss(nn.Module):
    """OFD's partial L2 between a student feature and the teacher's
    margin-ReLU of its pre-ReLU feature.

    The teacher's pre-ReLU map ``t`` goes through the margin-ReLU
    ``t' = max(t, m)`` (``m < 0`` per channel, from the teacher's BN:
    :func:`~mmkd.models.algorithms.bn_margin`); the student's map ``s``
    (pre-ReLU, through the conv + BN connector) is penalised by the squared
    difference except where the teacher is negative and the student is
    already below it (a ReLU would zero both):

    .. math::
        L = w \\cdot \\frac{1}{N} \\sum_{n,c,h,w}
            (s - t')^2 \\, [\\, s > t' \\ \\text{or}\\ t' > 0 \\,]

    ``reduction='batchmean'`` (sum / N) is the official code's
    ``loss_distill.sum() / batch_size``; its factor ``1/1000`` (CIFAR) or
    ``1/10000`` (ImageNet) and the stage weights ``1 / 2^(n - i - 1)`` go
    in ``loss_weight``, one ``OFDLoss`` per stage. The teacher side is
    detached.

    Args:
        reduction (str): ``'batchmean'``, ``'sum'``, ``'mean'`` (over every
            element) or ``'none'``. Defaults to ``'batchmean'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = OFDLoss(loss_weight=1e-3)
        >>> s, t = torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4)
        >>> loss(s, t, -torch.ones(8)).shape
        torch.Size([])
    """

    _reductions = ('batchmean', 'sum', 'mean', 'none')

    def __init__(self, reduction: str = 'batchmean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in self._reductions:
            raise ValueError(f'OFDLoss: reduction={reduction!r}; use one of '
                             f'{self._reductions}.')
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                margin: torch.Tensor) -> torch.Tensor:
        """Args:
            preds_S (Tensor): Student map ``[N, C, H, W]`` (connector out).
            preds_T (Tensor): Teacher pre-ReLU map, the same shape.
            margin (Tensor): ``[C]`` margins of the teacher's channels.
        """
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'OFDLoss: student {tuple(preds_S.shape)} and teacher '
                f'{tuple(preds_T.shape)} maps differ; give the student an '
                'OFDConnector to the teacher\'s channels (and stride).')
        if margin.dim() != 1 or margin.numel() != preds_T.shape[1]:
            raise ValueError(
                f'OFDLoss: margin has shape {tuple(margin.shape)} but the '
                f'teacher map has {preds_T.shape[1]} channels; name the BN '
                'layer right before the tapped teacher ReLU in margins.')
        shape = (1, -1) + (1, ) * (preds_T.dim() - 2)
        target = torch.max(preds_T.detach(),
                           margin.detach().to(preds_T).view(shape))
        keep = (preds_S > target) | (target > 0)
        loss = (preds_S - target).pow(2) * keep.to(preds_S.dtype)
        if self.reduction == 'batchmean':
            loss = loss.sum() / preds_S.shape[0]
        elif self.reduction == 'sum':
            loss = loss.sum()
        elif self.reduction == 'mean':
            loss = loss.mean()
        return self.loss_weight * loss
