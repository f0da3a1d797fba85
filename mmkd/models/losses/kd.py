"""Hinton et al., "Distilling the Knowledge in a Neural Network", 2015."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .ctkd import build_temperature
from .utils import check_logit_stand, standardize_logits


@DISTILL_LOSSES.register_module()
class KDLoss(nn.Module):
    """Soft-target distillation loss (KD).

    .. math::
        L = w \\, \\tau^2 \\, \\mathrm{KL}\\big(\\mathrm{softmax}(z_T/\\tau)
            \\,\\|\\, \\mathrm{softmax}(z_S/\\tau)\\big)

    The KL divergence is summed over classes and averaged over the batch
    (``reduction='batchmean'``), the form RepDistiller and mdistiller use.
    The ``tau ** 2`` factor keeps the gradient scale independent of ``tau``.

    With ``logit_stand`` (LS, Sun et al. CVPR 2024) both logits are
    Z-scored per sample (:func:`~mmkd.models.losses.utils.standardize_logits`)
    before the division by ``tau``; LS's CIFAR-100 setting is ``tau=2``,
    ``loss_weight=9`` and 0.1 CE (``configs/ls``).

    With ``temperature`` (CTKD, Li et al. AAAI 2023) a learnable module
    gives ``tau`` at every forward instead of the fixed ``tau``:
    :class:`~mmkd.models.losses.ctkd.GlobalTemperature` (shape ``[1]``) or
    :class:`~mmkd.models.losses.ctkd.InstanceTemperature` (``[N, 1]``,
    with the ``tau^2`` factor per sample), trained through a
    gradient-reversal layer (``configs/ctkd``).

    Args:
        tau (float): Temperature. Defaults to 4.0 (RepDistiller's CIFAR-100).
        reduction (str): ``'batchmean'`` (sum over classes, mean over the
            batch), ``'sum'``, ``'mean'`` (mean over every element) or
            ``'none'`` (per-sample loss of shape ``[N]``).
        loss_weight (float): Weight ``w``. Defaults to 1.0.
        logit_stand (bool | str): Logit standardization: False (off),
            ``'code'`` (the official code's unbiased std + 1e-7; also
            ``True``) or ``'paper'`` (population std). Defaults to False.
        temperature (dict | nn.Module, optional): A learnable temperature
            (CTKD) replacing ``tau``, e.g. ``dict(type='GlobalTemperature')``.
            Defaults to None.

    Examples:
        >>> loss = KDLoss(tau=4, loss_weight=0.9)
        >>> loss(torch.randn(2, 10), torch.randn(2, 10)).shape
        torch.Size([])
    """

    _reductions = ('batchmean', 'sum', 'mean', 'none')

    def __init__(self,
                 tau: float = 4.0,
                 reduction: str = 'batchmean',
                 loss_weight: float = 1.0,
                 logit_stand: Union[bool, str] = False,
                 temperature: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'KDLoss: tau must be positive, got {tau}.')
        if reduction not in self._reductions:
            raise ValueError(f'KDLoss: reduction must be one of '
                             f'{self._reductions}, got {reduction!r}.')
        self.tau = tau
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.logit_stand = check_logit_stand('KDLoss', logit_stand)
        self.temperature = None if temperature is None else \
            build_temperature('KDLoss', temperature)

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits, shape ``[N, K]``.
            preds_T (Tensor): Teacher logits, shape ``[N, K]``; no gradient
                flows into them.

        Returns:
            Tensor: The weighted loss (a scalar unless ``reduction='none'``).
        """
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'KDLoss: student logits {tuple(preds_S.shape)} and teacher '
                f'logits {tuple(preds_T.shape)} differ; give both models the '
                'same num_classes.')
        preds_T = preds_T.detach()
        if self.logit_stand is not None:
            preds_S = standardize_logits(preds_S, self.logit_stand)
            preds_T = standardize_logits(preds_T, self.logit_stand)
        tau = self.tau if self.temperature is None else self.temperature(
            preds_S, preds_T)
        log_p_s = F.log_softmax(preds_S / tau, dim=1)
        log_p_t = F.log_softmax(preds_T / tau, dim=1)
        # KL(p_t || p_s) per element: p_t (log p_t - log p_s)
        kl = torch.exp(log_p_t) * (log_p_t - log_p_s) * tau**2
        if self.reduction == 'batchmean':
            loss = kl.sum() / preds_S.shape[0]
        elif self.reduction == 'sum':
            loss = kl.sum()
        elif self.reduction == 'mean':
            loss = kl.mean()
        else:
            loss = kl.sum(dim=1)
        return self.loss_weight * loss
