"""Yang et al., "Knowledge Distillation via Softmax Regression
Representation Learning", ICLR 2021 (SRRL), and its extension SRD
(arXiv 2205.06701). Not torchdistill's ``SRDLoss``, which is Miles &
Mikolajczyk's projector method (AAAI 2024)."""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import MultiTermLoss


def _pool(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(2).mean(-1) if x.dim() > 2 else x


@DISTILL_LOSSES.register_module()
class SoftmaxRegressionLoss(MultiTermLoss, nn.Module):
    """SRD / SRRL: feature matching + the teacher's classifier on the
    student's feature.

    With ``s`` the student's map through the connector, ``t`` the teacher's
    map (both globally average-pooled: the official ``statm_loss`` compares
    the channel means), ``W, b`` the teacher's frozen classifier and ``z_T``
    the teacher's logits:

    .. math::
        L_{fm} = \\mathrm{MSE}(\\bar s, \\bar t), \\qquad
        z_{TS} = W \\bar s + b

    .. math::
        L_{sr} = \\mathrm{MSE}(z_{TS}, z_T) \\ \\text{(code form)} \\quad
        \\text{or} \\quad \\tau^2 \\, \\mathrm{KL}(\\sigma(z_T/\\tau) \\,\\|\\,
        \\sigma(z_{TS}/\\tau)) \\ \\text{(paper's softmax regression)}

    and the loss returns ``fm = w * w_fm * L_fm`` and ``sr = w * w_sr *
    L_sr`` (logged as ``<name>.fm``, ``<name>.sr`` and summed). MSEs are
    means over every element. The teacher's map and logits are detached;
    ``W`` and ``b`` are used as given (frozen teacher: no gradient reaches
    them, the student and the connector get theirs through them).

    Args:
        sr_form (str): ``'mse'`` (the authors' code, default) or ``'kl'``.
        tau (float): Temperature of the ``'kl'`` form. Defaults to 1.0.
        fm_weight (float): ``w_fm``. Defaults to 1.0.
        sr_weight (float): ``w_sr``. Defaults to 1.0.
        loss_weight (float): ``w``. Defaults to 1.0.

    Examples:
        >>> loss = SoftmaxRegressionLoss()
        >>> out = loss(torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4),
        ...            torch.randn(2, 3), torch.randn(3, 8), torch.zeros(3))
        >>> sorted(out)
        ['fm', 'sr']
    """

    _forms = ('mse', 'kl')

    def __init__(self, sr_form: str = 'mse', tau: float = 1.0,
                 fm_weight: float = 1.0, sr_weight: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if sr_form not in self._forms:
            raise ValueError(f'SoftmaxRegressionLoss: sr_form={sr_form!r}; '
                             f"use 'mse' (the authors' code) or 'kl' (the "
                             'paper).')
        self.sr_form = sr_form
        self.tau = tau
        self.fm_weight = fm_weight
        self.sr_weight = sr_weight
        self.loss_weight = loss_weight

    def forward(self, feats_S: torch.Tensor, feats_T: torch.Tensor,
                preds_T: torch.Tensor, cls_weight: torch.Tensor,
                cls_bias: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The two terms of one batch.

        Args:
            feats_S (Tensor): Student map through the connector,
                ``[N, C_T, H, W]`` or pooled ``[N, C_T]``.
            feats_T (Tensor): Teacher map ``[N, C_T, H', W']`` or pooled.
            preds_T (Tensor): Teacher logits ``[N, K]``.
            cls_weight (Tensor): Teacher classifier weight ``[K, C_T]``.
            cls_bias (Tensor): Its bias ``[K]``.

        Returns:
            dict: ``fm`` and ``sr``, each weighted.
        """
        s, t = _pool(feats_S), _pool(feats_T.detach())
        if s.shape != t.shape or s.shape[1] != cls_weight.shape[1]:
            raise ValueError(
                f'SoftmaxRegressionLoss: pooled student {tuple(s.shape)}, '
                f'teacher {tuple(t.shape)} and classifier input '
                f'{cls_weight.shape[1]} must agree; set the connector\'s '
                'out_channels to the teacher\'s feature channels.')
        z_ts = F.linear(s, cls_weight, cls_bias)
        z_t = preds_T.detach()
        if self.sr_form == 'mse':
            sr = F.mse_loss(z_ts, z_t)
        else:
            sr = F.kl_div(F.log_softmax(z_ts / self.tau, 1),
                          F.softmax(z_t / self.tau, 1),
                          reduction='batchmean') * self.tau**2
        return dict(fm=self.loss_weight * self.fm_weight * F.mse_loss(s, t),
                    sr=self.loss_weight * self.sr_weight * sr)
