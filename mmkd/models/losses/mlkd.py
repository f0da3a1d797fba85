"""Jin et al., "Multi-level Logit Distillation", CVPR 2023."""
from typing import Dict, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from .utils import check_logit_stand, standardize_logits


def _kd(z_s, z_t, tau):
    """``tau^2 KL(softmax(z_t/tau) || softmax(z_s/tau))`` per sample."""
    log_p_s = F.log_softmax(z_s / tau, dim=1)
    log_p_t = F.log_softmax(z_t / tau, dim=1)
    return (log_p_t.exp() * (log_p_t - log_p_s)).sum(1) * tau**2


def _class_gram(z_s, z_t, tau):
    """``(P_T^T P_T - P_S^T P_S)^2 / K``, ``[K, K]`` (class level)."""
    p_s, p_t = F.softmax(z_s / tau, dim=1), F.softmax(z_t / tau, dim=1)
    return (p_t.t() @ p_t - p_s.t() @ p_s).pow(2) / z_s.shape[1]


def _batch_gram(z_s, z_t, tau):
    """``(P_T P_T^T - P_S P_S^T)^2 / N``, ``[N, N]`` (batch level)."""
    p_s, p_t = F.softmax(z_s / tau, dim=1), F.softmax(z_t / tau, dim=1)
    return (p_t @ p_t.t() - p_s @ p_s.t()).pow(2) / z_s.shape[0]


def _below_median(x: torch.Tensor) -> torch.Tensor:
    """``x <= median(x)`` with numpy's linear-interpolation percentile, as
    the official code computes it."""
    return x.le(torch.quantile(x, 0.5)).to(x.dtype)


@DISTILL_LOSSES.register_module()
class MLKDLoss(nn.Module):
    """Multi-level logit distillation: instance, batch and class alignment.

    For temperatures ``tau`` in ``taus`` (the base temperature and 3, 5, 2,
    6; "prediction augmentation"), on a weak view ``w`` and a strong view
    ``s`` of each image, with ``P = softmax(z / tau)``:

    - instance level ``KD(tau) = tau^2 KL(P_T || P_S)`` per sample;
    - batch level ``BC(tau) = sum (P_T P_T^T - P_S P_S^T)^2 / N``;
    - class level ``CC(tau) = sum (P_T^T P_T - P_S^T P_S)^2 / K``;

    each weighted by ``loss_weight``. Confidence masks from the teacher's
    weak-view softmax: ``m_i = [c_i <= median(c)]`` with ``c_i`` its max
    probability (samples), and ``n_k = [C_k <= median(C)]`` with ``C_k``
    its probability summed over the batch (classes).

    Two forms (``mode``), documented side by side in ``docs/methods/mlkd.md``:

    - ``'code'`` (the official code, which produced the published numbers;
      Jin-Ying/Multi-Level-Logit-Distillation, ``KD_ours``): each term is
      reduced to a scalar *before* the mask multiplies it, so a mask only
      scales its term by the fraction it keeps (``mean(m)``, about 1/2);
      the strong-view instance terms at tau = 2 and 6 use the weak-view
      logits; the strong-view batch and class terms are not in the total.
      Total: ``mean(m) sum KD_w + [KD_s(tau, 3, 5) + KD_w(2, 6)] +
      mean(n) sum CC_w + mean(m) sum BC_w``.
    - ``'paper'`` (what the method describes, and what the code's
      commented-out ``reduce=False`` points at): masks select per sample
      (``mean_i m_i KD_i``; the columns ``j`` of BC's ``[N, N]`` matrix)
      and per class (the columns of CC's ``[K, K]``), with the same
      normalisers (``1/N``, ``1/N``, ``1/K``) as the unmasked terms; every
      strong-view term uses the strong view, and the strong-view batch and
      class terms count. Total: ``sum over tau of [KD_w^m + KD_s + CC_w^n +
      CC_s + BC_w^m + BC_s^m]``.

    With ``logit_stand`` (LS) the instance terms use Z-scored logits (as
    LS's official MLKD); the batch and class terms do not.

    Returns a dict of terms (``kd_weak``, ``kd_strong``, ``cc_weak``,
    ``bc_weak`` and, in the paper form, ``cc_strong``, ``bc_strong``),
    each logged and summed by the distiller.

    Args:
        tau (float): Base temperature, the first of the temperatures.
            Defaults to 4.0 (mdistiller's KD default the official code
            reads).
        extra_taus (Sequence[float]): The other temperatures. Defaults to
            ``(3., 5., 2., 6.)``.
        loss_weight (float): Weight of every term. Defaults to 0.9.
        mode (str): ``'code'`` or ``'paper'``. Defaults to ``'code'``.
        logit_stand (bool | str): LS form for the instance terms; see
            :class:`~mmkd.models.losses.KDLoss`. Defaults to False.
    """

    _modes = ('code', 'paper')

    def __init__(self, tau: float = 4., extra_taus: Sequence[float] = (
            3., 5., 2., 6.), loss_weight: float = 0.9, mode: str = 'code',
                 logit_stand: Union[bool, str] = False) -> None:
        super().__init__()
        if mode not in self._modes:
            raise ValueError(f'MLKDLoss: mode must be one of {self._modes}, '
                             f'got {mode!r}.')
        taus = (float(tau), ) + tuple(float(t) for t in extra_taus)
        if any(t <= 0 for t in taus):
            raise ValueError(f'MLKDLoss: temperatures must be positive, got '
                             f'{taus}.')
        if mode == 'code' and len(taus) != 5:
            raise ValueError(
                "MLKDLoss: mode='code' reproduces the official five "
                'temperatures (its strong-view terms 4 and 5 reuse the weak '
                f'view); give four extra_taus, got {len(taus) - 1}, or use '
                "mode='paper'.")
        self.taus = taus
        self.loss_weight = loss_weight
        self.mode = mode
        self.logit_stand = check_logit_stand('MLKDLoss', logit_stand)

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                preds_S_strong: torch.Tensor,
                preds_T_strong: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the terms.

        Args:
            preds_S (Tensor): Student logits of the weak view ``[N, K]``.
            preds_T (Tensor): Teacher logits of the weak view ``[N, K]``.
            preds_S_strong (Tensor): Student logits of the strong view.
            preds_T_strong (Tensor): Teacher logits of the strong view.

        Returns:
            dict[str, Tensor]: The weighted terms (see the class docstring).
        """
        shapes = {tuple(x.shape) for x in (preds_S, preds_T, preds_S_strong,
                                           preds_T_strong)}
        if len(shapes) != 1 or preds_S.dim() != 2:
            raise ValueError(
                'MLKDLoss: the weak and strong student and teacher logits '
                f'must all be the same [N, K], got {sorted(shapes)}; feed '
                'both views of the same batch (MLKDDistiller).')
        z_tw, z_ts = preds_T.detach(), preds_T_strong.detach()
        z_sw, z_ss = preds_S, preds_S_strong
        if self.logit_stand is not None:
            std = self.logit_stand
            i_sw, i_ss = standardize_logits(z_sw, std), standardize_logits(
                z_ss, std)
            i_tw, i_ts = standardize_logits(z_tw, std), standardize_logits(
                z_ts, std)
        else:
            i_sw, i_ss, i_tw, i_ts = z_sw, z_ss, z_tw, z_ts
        p_tw = F.softmax(z_tw, dim=1)
        mask = _below_median(p_tw.max(dim=1)[0])
        class_mask = _below_median(p_tw.sum(dim=0))
        w = self.loss_weight
        out = {}
        if self.mode == 'code':
            # reduced first, then "masked": a mask scales by its mean
            out['kd_weak'] = w * sum(
                _kd(i_sw, i_tw, t).mean() for t in self.taus) * mask.mean()
            strong = [_kd(i_ss, i_ts, t).mean() for t in self.taus[:3]]
            weak = [_kd(i_sw, i_tw, t).mean() for t in self.taus[3:]]
            out['kd_strong'] = w * sum(strong + weak)
            out['cc_weak'] = w * sum(
                _class_gram(z_sw, z_tw, t).sum()
                for t in self.taus) * class_mask.mean()
            out['bc_weak'] = w * sum(
                _batch_gram(z_sw, z_tw, t).sum()
                for t in self.taus) * mask.mean()
            return out
        # paper: per-sample / per-class masks, strong terms on the strong view
        out['kd_weak'] = w * sum((_kd(i_sw, i_tw, t) * mask).mean()
                                 for t in self.taus)
        out['kd_strong'] = w * sum(_kd(i_ss, i_ts, t).mean()
                                   for t in self.taus)
        out['cc_weak'] = w * sum((_class_gram(z_sw, z_tw, t) *
                                  class_mask).sum() for t in self.taus)
        out['cc_strong'] = w * sum(_class_gram(z_ss, z_ts, t).sum()
                                   for t in self.taus)
        out['bc_weak'] = w * sum((_batch_gram(z_sw, z_tw, t) * mask).sum()
                                 for t in self.taus)
        out['bc_strong'] = w * sum((_batch_gram(z_ss, z_ts, t) * mask).sum()
                                   for t in self.taus)
        return out
