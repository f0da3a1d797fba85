"""Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015."""
import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class HintLoss(nn.Module):
    """FitNets hint loss: L2 between the adapted student and teacher features.

    .. math::
        L = w \\cdot \\frac{1}{|F|} \\sum (r(F_S) - F_T)^2

    where ``r`` is the hint regressor. In mmkd the regressor is a connector
    (``ConvConnector``) that the distiller applies before this loss, so
    ``feats_S`` is already ``r(F_S)`` and must have the teacher's shape.
    The paper trains the regressor in a separate first stage; RepDistiller
    (and this loss) adds it to the training objective in one stage, with
    ``nn.MSELoss()`` (mean over every element) and weight 100.

    Args:
        reduction (str): ``'mean'`` (over every element, RepDistiller's
            form), ``'sum'`` or ``'none'`` (element-wise, the input shape).
            Defaults to ``'mean'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            configs use 100).

    Examples:
        >>> loss = HintLoss(loss_weight=100)
        >>> loss(torch.randn(2, 64, 8, 8), torch.randn(2, 64, 8, 8)).shape
        torch.Size([])
    """

    _reductions = ('mean', 'sum', 'none')

    def __init__(self,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in self._reductions:
            raise ValueError(f'HintLoss: reduction must be one of '
                             f'{self._reductions}, got {reduction!r}.')
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student feature after the connector, e.g.
                ``[N, C, H, W]``.
            feats_T (Tensor): Teacher feature of the same shape; no gradient
                flows into it.

        Returns:
            Tensor: The weighted loss (a scalar unless ``reduction='none'``).
        """
        if feats_S.shape != feats_T.shape:
            raise ValueError(
                f'HintLoss: student feature {tuple(feats_S.shape)} and '
                f'teacher feature {tuple(feats_T.shape)} differ; add a '
                'ConvConnector (connectors=dict(..., type=\'ConvConnector\', '
                'in_channels=C_S, out_channels=C_T)) and feed its output as '
                'feats_S.')
        diff = (feats_S - feats_T.detach()).pow(2)
        if self.reduction == 'mean':
            loss = diff.mean()
        elif self.reduction == 'sum':
            loss = diff.sum()
        else:
            loss = diff
        return self.loss_weight * loss
