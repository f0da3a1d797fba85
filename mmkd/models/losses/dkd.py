"""Zhao et al., "Decoupled Knowledge Distillation", CVPR 2022."""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import EpochAware
from .ctkd import build_temperature
from .utils import check_logit_stand, standardize_logits


@DISTILL_LOSSES.register_module()
class DKDLoss(EpochAware, nn.Module):
    """Decoupled KD: target-class (TCKD) and non-target-class (NCKD) terms.

    With ``p = softmax(z / tau)`` and ``t`` the ground-truth class, TCKD
    compares the binary distributions ``b = [p_t, 1 - p_t]`` and NCKD the
    distributions over the ``K - 1`` non-target classes,
    ``p~_k = softmax_{k != t}(z_k / tau)``:

    .. math::
        L = w \\, f \\, \\tau^2 \\big(\\alpha \\, \\mathrm{KL}(b^T \\| b^S)
            + \\beta \\, \\mathrm{KL}(\\tilde p^T \\| \\tilde p^S)\\big)

    averaged over the batch (``reduction='batchmean'``). Log-probabilities
    are computed with ``log_softmax``/``logsumexp`` (exact, no ``-1000``
    masking and no ``log`` of a saturated probability).

    Warm-up: the paper scales the loss by ``f = min(epoch / warmup_epochs,
    1)`` (mdistiller counts epochs from 1). The loss does not see the
    epoch, so ``f`` is the attribute ``warmup_factor`` (1.0 when built,
    i.e. no warm-up); :meth:`set_epoch` sets it. ``LossEpochHook`` (in
    mmkd's default runtime) calls it before every epoch with
    ``runner.epoch + 1``, which applies the paper's schedule.

    With ``logit_stand`` (LS, Sun et al. CVPR 2024) both logits are
    Z-scored per sample (:func:`~mmkd.models.losses.utils.standardize_logits`)
    before the division by ``tau``. LS's official code then multiplies
    mdistiller's alpha and beta by its KD weight and sets ``tau`` to its
    base temperature (e.g. ``alpha=9, beta=72, tau=2``; ``configs/ls``).

    With ``temperature`` (CTKD, Li et al. AAAI 2023) a learnable module
    gives ``tau`` at every forward instead of the fixed ``tau`` (global
    ``[1]`` or per sample ``[N, 1]``), trained through a gradient-reversal
    layer (``configs/ctkd``).

    Args:
        alpha (float): TCKD weight. Defaults to 1.0.
        beta (float): NCKD weight. Defaults to 8.0 (CIFAR-100; mdistiller
            uses other values for some pairs, e.g. 0.5 on ImageNet).
        tau (float): Temperature. Defaults to 4.0.
        warmup_epochs (int): Epochs of the linear warm-up used by
            :meth:`set_epoch`; 0 disables it. Defaults to 20.
        reduction (str): ``'batchmean'``, ``'sum'`` or ``'none'``
            (per-sample ``[N]``). Defaults to ``'batchmean'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0.
        logit_stand (bool | str): Logit standardization: False (off),
            ``'code'`` (the official code's unbiased std + 1e-7; also
            ``True``) or ``'paper'`` (population std). Defaults to False.
        temperature (dict | nn.Module, optional): A learnable temperature
            (CTKD) replacing ``tau``, e.g. ``dict(type='GlobalTemperature')``.
            Defaults to None.

    Examples:
        >>> loss = DKDLoss()
        >>> loss.set_epoch(5)  # warmup_factor = 0.25
        >>> loss(torch.randn(4, 10), torch.randn(4, 10),
        ...      torch.tensor([0, 1, 2, 3])).shape
        torch.Size([])
    """

    _reductions = ('batchmean', 'sum', 'none')

    def __init__(self,
                 alpha: float = 1.,
                 beta: float = 8.,
                 tau: float = 4.,
                 warmup_epochs: int = 20,
                 reduction: str = 'batchmean',
                 loss_weight: float = 1.0,
                 logit_stand: Union[bool, str] = False,
                 temperature: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'DKDLoss: tau must be positive, got {tau}.')
        if warmup_epochs < 0:
            raise ValueError('DKDLoss: warmup_epochs must be >= 0 (0 '
                             f'disables the warm-up), got {warmup_epochs}.')
        if reduction not in self._reductions:
            raise ValueError(f'DKDLoss: reduction must be one of '
                             f'{self._reductions}, got {reduction!r}.')
        self.alpha = alpha
        self.beta = beta
        self.tau = tau
        self.warmup_epochs = warmup_epochs
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.warmup_factor = 1.0
        self.logit_stand = check_logit_stand('DKDLoss', logit_stand)
        self.temperature = None if temperature is None else \
            build_temperature('DKDLoss', temperature)

    def set_epoch(self, epoch: int) -> None:
        """Set ``warmup_factor = min(epoch / warmup_epochs, 1)``.

        Args:
            epoch (int): The current epoch, counted from 1 as in mdistiller
                (pass ``runner.epoch + 1`` from an mmengine hook).
        """
        self.warmup_factor = 1.0 if self.warmup_epochs == 0 else min(
            epoch / self.warmup_epochs, 1.0)

    def _parts(self, z: torch.Tensor, gt_mask: torch.Tensor):
        """Log binary ``[N, 2]`` and log non-target ``[N, K-1]`` dists."""
        log_p = F.log_softmax(z, dim=1)
        log_p_gt = log_p[gt_mask][:, None]
        z_other = z[~gt_mask].view(z.shape[0], -1)
        log_p_rest = torch.logsumexp(z_other, dim=1, keepdim=True) - \
            torch.logsumexp(z, dim=1, keepdim=True)
        log_b = torch.cat([log_p_gt, log_p_rest], dim=1)
        return log_b, F.log_softmax(z_other, dim=1)

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits ``[N, K]``, ``K >= 2``.
            preds_T (Tensor): Teacher logits ``[N, K]``; no gradient flows
                into them.
            gt_labels (Tensor): Class indices ``[N]`` (int64).

        Returns:
            Tensor: The weighted loss (a scalar unless ``reduction='none'``).
        """
        if preds_S.shape != preds_T.shape or preds_S.dim() != 2 \
                or preds_S.shape[1] < 2:
            raise ValueError(
                f'DKDLoss: student logits {tuple(preds_S.shape)} and '
                f'teacher logits {tuple(preds_T.shape)} must both be [N, K] '
                'with K >= 2; give both models the same num_classes.')
        if gt_labels is None or gt_labels.dim() != 1 \
                or gt_labels.shape[0] != preds_S.shape[0] \
                or gt_labels.is_floating_point():
            shape = None if gt_labels is None else tuple(gt_labels.shape)
            raise ValueError(
                f'DKDLoss needs hard labels of shape [{preds_S.shape[0]}] '
                f'(int64 class indices), got {shape}; map gt_labels to '
                "'gt_labels' and do not use mixup/cutmix soft labels.")
        gt_mask = F.one_hot(gt_labels, preds_S.shape[1]).bool()
        preds_T = preds_T.detach()
        if self.logit_stand is not None:
            preds_S = standardize_logits(preds_S, self.logit_stand)
            preds_T = standardize_logits(preds_T, self.logit_stand)
        tau = self.tau if self.temperature is None else self.temperature(
            preds_S, preds_T)
        log_b_s, log_o_s = self._parts(preds_S / tau, gt_mask)
        log_b_t, log_o_t = self._parts(preds_T / tau, gt_mask)
        tckd = (log_b_t.exp() * (log_b_t - log_b_s)).sum(dim=1)
        nckd = (log_o_t.exp() * (log_o_t - log_o_s)).sum(dim=1)
        tau_sq = tau**2 if self.temperature is None else \
            (tau**2).reshape(-1)
        loss = (self.alpha * tckd + self.beta * nckd) * tau_sq
        if self.reduction == 'batchmean':
            loss = loss.sum() / preds_S.shape[0]
        elif self.reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * self.warmup_factor * loss
