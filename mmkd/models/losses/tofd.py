"""Zhang et al., "Task-Oriented Feature Distillation" (TOFD), NeurIPS 2020,
in the form DIH's authors re-implemented as a baseline (arXiv 2103.00497)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import EpochAware


@DISTILL_LOSSES.register_module()
class TOFDLoss(EpochAware, nn.Module):
    """TOFD's loss for one student classifier (an auxiliary branch or the
    student's own head).

    With ``f_S`` the branch's pooled feature, ``f_T`` the teacher's, ``z_S``
    the branch's logits, ``z_T`` the teacher's, and ``W`` the bias-free
    linear link ``f_S -> f_T`` this loss owns:

    .. math::
        L = \\alpha \\, \\| W f_S - f_T \\|_2
            + w_{ce} \\mathrm{CE}(z_S, y)
            - \\tfrac{1}{N} \\sum_i \\sigma(z_T/T_e)_i \\cdot
              \\log \\sigma(z_S/T_e)_i
            + \\beta \\big(\\| W W^\\top - I \\|_F
            + \\| W^\\top W - I \\|_F\\big)

    - ``|| . ||_2`` is the norm of the whole batch's difference
      (``torch.dist``), as in the TOFD reference code; it grows with the
      batch size, so retune ``alpha`` when the batch changes.
    - The soft-target term is a cross-entropy without ``T^2`` (TOFD's
      ``CrossEntropy``); the teacher's logits and feature get no gradient.
    - Temperature grows over training: ``T_e = 1 + tau * e / tau_epochs``
      for epoch ``e = 1, 2, ...`` (capped at ``1 + tau``). The epoch comes
      from :meth:`set_epoch`, which ``LossEpochHook`` (mmkd's default
      runtime) calls before every epoch; without it ``T`` stays at
      ``1 + tau / tau_epochs``.

    Fixed from DIH's TOFD script (``TOFD/tofd_train.py``):

    - Branch ``j``'s CE, KD and feature terms all use branch ``j``: the
      script paired the logits ``[final, branch3, branch2]`` with the
      features ``[branch3, branch2, branch1]``, so the shallowest branch's
      classifier was never trained and the final logits were matched with
      the deepest branch's feature.
    - ``T_e`` reaches ``1 + tau`` at the end of the actual schedule; the
      script hard-coded 250 epochs while training 200 (``T`` stopped at
      ``1 + 0.8 tau``).
    - The links exist from the start and are in the one optimizer, with
      the same weight decay as the rest; the script built them in the first
      iteration and recreated the optimizer there, silently replacing its
      weight decay (7e-3 -> 5e-4).
    - The teacher is a CE-trained classifier loaded by key; every branch
      distils from the teacher's final classifier and pooled feature (the
      script loaded state dicts by position and read teacher branches that
      its CE-trained teacher never trained).

    Args:
        s_dim (int): Size of the student branch's feature.
        t_dim (int): Size of the teacher's feature.
        alpha (float): Weight of the feature term. Defaults to 0.05.
        beta (float): Weight of the orthogonality penalty. Defaults to 0.03.
        tau (float): Temperature growth ``t``. Defaults to 3.0.
        tau_epochs (int): Epochs over which ``T`` grows (the schedule's
            length). Defaults to 200.
        ce_weight (float): Weight of the branch's CE. Defaults to 1.0.
        loss_weight (float): Factor on the whole loss. Defaults to 1.0.

    Examples:
        >>> loss = TOFDLoss(s_dim=64, t_dim=256)
        >>> f_s, f_t = torch.randn(4, 64), torch.randn(4, 256)
        >>> z_s, z_t = torch.randn(4, 10), torch.randn(4, 10)
        >>> loss(f_s, f_t, z_s, z_t, torch.tensor([0, 1, 2, 3])).shape
        torch.Size([])
    """

    def __init__(self,
                 s_dim: int,
                 t_dim: int,
                 alpha: float = 0.05,
                 beta: float = 0.03,
                 tau: float = 3.0,
                 tau_epochs: int = 200,
                 ce_weight: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau < 0 or tau_epochs < 1:
            raise ValueError('TOFDLoss: tau must be >= 0 and tau_epochs >= 1, '
                             f'got tau={tau}, tau_epochs={tau_epochs}.')
        self.s_dim = s_dim
        self.t_dim = t_dim
        self.link = nn.Linear(s_dim, t_dim, bias=False)
        self.alpha = alpha
        self.beta = beta
        self.tau = tau
        self.tau_epochs = tau_epochs
        self.ce_weight = ce_weight
        self.loss_weight = loss_weight
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        """Set the current epoch (counted from 1); ``T`` follows it."""
        self.epoch = epoch

    @property
    def temperature(self) -> float:
        """``T_e = 1 + tau * min(e, tau_epochs) / tau_epochs``."""
        return 1 + self.tau * min(self.epoch, self.tau_epochs) / \
            self.tau_epochs

    @staticmethod
    def _vector(x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) if x.dim() == 4 else x.flatten(1)

    def orthogonality(self) -> torch.Tensor:
        """``||W W^T - I||_F + ||W^T W - I||_F`` of the link."""
        w = self.link.weight
        eye_t = torch.eye(w.shape[0], device=w.device, dtype=w.dtype)
        eye_s = torch.eye(w.shape[1], device=w.device, dtype=w.dtype)
        return torch.dist(w @ w.t(), eye_t) + torch.dist(w.t() @ w, eye_s)

    def forward(self, feats_S: torch.Tensor, feats_T: torch.Tensor,
                preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Branch feature ``[N, s_dim]`` (a 4-d map is
                average-pooled).
            feats_T (Tensor): Teacher feature ``[N, t_dim]``, likewise.
            preds_S (Tensor): Branch logits ``[N, K]``.
            preds_T (Tensor): Teacher logits ``[N, K]``.
            gt_labels (Tensor): Class indices ``[N]`` or soft labels.

        Returns:
            Tensor: The weighted loss, a scalar.
        """
        f_s, f_t = self._vector(feats_S), self._vector(feats_T).detach()
        if f_s.shape[1] != self.s_dim or f_t.shape[1] != self.t_dim:
            raise ValueError(
                f'TOFDLoss: features {tuple(f_s.shape)} (student) and '
                f'{tuple(f_t.shape)} (teacher) do not match s_dim='
                f'{self.s_dim}, t_dim={self.t_dim}; set s_dim={f_s.shape[1]}'
                f', t_dim={f_t.shape[1]}.')
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'TOFDLoss: logits {tuple(preds_S.shape)} (student) and '
                f'{tuple(preds_T.shape)} (teacher) differ.')
        feat = torch.dist(self.link(f_s), f_t, p=2)
        ce = F.cross_entropy(preds_S, gt_labels)
        t = self.temperature
        soft = -(F.softmax(preds_T.detach() / t, dim=1) *
                 F.log_softmax(preds_S / t, dim=1)).sum(dim=1).mean()
        loss = (self.alpha * feat + self.ce_weight * ce + soft +
                self.beta * self.orthogonality())
        return self.loss_weight * loss
