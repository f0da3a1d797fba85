"""Asadian & Salehi-Abari, "Distilling Knowledge via Intermediate Classifier
Heads" (DIH), arXiv 2103.00497."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


def soft_kl(preds_S: torch.Tensor, preds_T: torch.Tensor,
            tau: float) -> torch.Tensor:
    """``tau^2 KL(softmax(z_T/tau) || softmax(z_S/tau))``, batch mean."""
    log_p_s = F.log_softmax(preds_S / tau, dim=1)
    log_p_t = F.log_softmax(preds_T.detach() / tau, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum() / preds_S.shape[0]
    return tau**2 * kl


@DISTILL_LOSSES.register_module()
class CohortKDLoss(nn.Module):
    """DIH's cohort loss: KD from the teacher and each of its heads.

    With ``z_T^0`` the teacher's final logits, ``z_T^1 .. z_T^k`` its
    intermediate heads' logits and ``A = {j : alpha_j > 0}`` the active
    classifiers:

    ``ce_mode='per_head'`` (the paper, and the authors' code: every
    classifier adds one canonical KD loss, its CE included)

    .. math::
        L = \\sum_{j \\in A} \\big[\\alpha_j \\tau^2
            \\mathrm{KL}(\\sigma(z_T^j/\\tau) \\| \\sigma(z_S/\\tau))
            + (1 - \\alpha_j)\\, \\mathrm{CE}(z_S, y)\\big]

    ``ce_mode='once'``

    .. math::
        L = \\sum_{j \\in A} \\alpha_j \\tau^2
            \\mathrm{KL}(\\sigma(z_T^j/\\tau) \\| \\sigma(z_S/\\tau))
            + (1 - \\bar\\alpha)\\, \\mathrm{CE}(z_S, y),
        \\quad \\bar\\alpha = \\mathrm{mean}_{j \\in A}\\, \\alpha_j

    The difference: in ``'per_head'`` the label term weighs
    ``sum_j (1 - alpha_j)``, i.e. ``(k + 1)(1 - alpha)`` = 3.6 with k = 3
    and alpha = 0.1, so adding heads also scales up the CE (and the
    effective learning rate of the label term), while each KL keeps weight
    ``alpha``. ``'once'`` keeps canonical KD's label weight ``1 - alpha``
    whatever ``k``, so the heads change only the soft-target part; compare
    the two with the same schedule, not with the same learning rate
    intuition.

    ``alpha_j = 0`` switches classifier ``j`` off entirely (neither its KL
    nor, in ``'per_head'``, its CE copy), as in the authors' code. With no
    active classifier the loss is ``CE(z_S, y)``. KL is summed over classes
    and averaged over the batch; the teacher logits get no gradient.

    The student's own CE is inside this loss: give the distiller
    ``student_loss_weight=0`` so it is not counted again.

    Args:
        tau (float): Temperature. Defaults to 5 (DIH).
        alpha (float | Sequence[float]): One weight for every classifier,
            or one per classifier, final first (``k + 1`` values).
            Defaults to 0.1 (DIH).
        ce_mode (str): ``'per_head'`` or ``'once'``. Defaults to
            ``'per_head'``.
        loss_weight (float): Factor on the whole loss. Defaults to 1.0.

    Examples:
        >>> loss = CohortKDLoss(tau=5, alpha=[0.1, 0.1, 0, 0.1])
        >>> z_s, labels = torch.randn(4, 10), torch.tensor([0, 1, 2, 3])
        >>> cohort = [torch.randn(4, 10) for _ in range(4)]
        >>> loss(z_s, cohort, labels).shape
        torch.Size([])
    """

    CE_MODES = ('per_head', 'once')

    def __init__(self,
                 tau: float = 5.0,
                 alpha: Union[float, Sequence[float]] = 0.1,
                 ce_mode: str = 'per_head',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'CohortKDLoss: tau must be positive, got {tau}.')
        alphas = [alpha] if isinstance(alpha, (int, float)) else list(alpha)
        if not alphas or any(not 0 <= a <= 1 for a in alphas):
            raise ValueError('CohortKDLoss: alpha must be a number or a list '
                             f'of numbers in [0, 1], got {alpha!r}.')
        if ce_mode not in self.CE_MODES:
            raise ValueError(f'CohortKDLoss: ce_mode must be one of '
                             f'{self.CE_MODES}, got {ce_mode!r}.')
        self.tau = tau
        self.alpha = alpha
        self.ce_mode = ce_mode
        self.loss_weight = loss_weight

    def alphas(self, num: int) -> list:
        """The weight of each of ``num`` classifiers, final first."""
        if isinstance(self.alpha, (int, float)):
            return [float(self.alpha)] * num
        if len(self.alpha) != num:
            raise ValueError(
                f'CohortKDLoss: alpha has {len(self.alpha)} values but the '
                f'cohort has {num} classifiers (the final one and '
                f'{num - 1} heads); give one alpha per classifier, final '
                'first, or a single number.')
        return [float(a) for a in self.alpha]

    def forward(self, preds_S: torch.Tensor, preds_T: Sequence[torch.Tensor],
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits ``[N, K]``.
            preds_T (Sequence[Tensor]): The cohort's logits, each
                ``[N, K]``: the teacher's final classifier first, then
                heads 1..k (``DIHDistiller``'s ``t_cohort_logits``).
            gt_labels (Tensor): Class indices ``[N]`` or soft labels
                ``[N, K]``.

        Returns:
            Tensor: The weighted loss, a scalar.
        """
        if isinstance(preds_T, torch.Tensor):
            preds_T = [preds_T]
        for j, z in enumerate(preds_T):
            if z.shape != preds_S.shape:
                raise ValueError(
                    f'CohortKDLoss: classifier {j} gives logits '
                    f'{tuple(z.shape)} but the student {tuple(preds_S.shape)}'
                    '; give all models the same num_classes.')
        alphas = self.alphas(len(preds_T))
        active = [j for j, a in enumerate(alphas) if a > 0]
        ce = F.cross_entropy(preds_S, gt_labels)
        if not active:
            return self.loss_weight * ce
        loss = sum(alphas[j] * soft_kl(preds_S, preds_T[j], self.tau)
                   for j in active)
        if self.ce_mode == 'per_head':
            ce_weight = sum(1 - alphas[j] for j in active)
        else:
            ce_weight = 1 - sum(alphas[j] for j in active) / len(active)
        return self.loss_weight * (loss + ce_weight * ce)
