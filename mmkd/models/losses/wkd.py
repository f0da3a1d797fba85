"""Lv et al., "Wasserstein Distance Rivals Kullback-Leibler Divergence for
Knowledge Distillation", NeurIPS 2024: the logit term WKD-L."""
import math
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES
from ..interfaces import EpochAware


def sinkhorn(p: torch.Tensor, q: torch.Tensor, cost: torch.Tensor,
             reg: float = 0.05, iters: int = 10) -> torch.Tensor:
    """Entropic optimal transport plans between the rows of ``p`` and ``q``.

    Sinkhorn's scaling with kernel ``G = exp(-cost / reg)``, from
    ``u = 1/n``: ``v = q / (G^T u + 1e-8)``, ``u = p / (G v + 1e-8)``,
    ``iters`` times (the official code's order and constants); the plan
    is ``diag(u) G diag(v)``.

    Args:
        p, q (Tensor): ``[N, n]`` distributions.
        cost (Tensor): ``[N, n, n]`` (or ``[n, n]``) costs.

    Returns:
        Tensor: ``[N, n, n]`` transport plans.
    """
    n = p.shape[1]
    cost = cost.expand(p.shape[0], n, n)
    g = torch.exp(-cost / reg)
    u = torch.full_like(p, 1. / n).unsqueeze(-1)
    p, q = p.unsqueeze(-1), q.unsqueeze(-1)
    for _ in range(iters):
        v = q / (torch.bmm(g.transpose(1, 2), u) + 1e-8)
        u = p / (torch.bmm(g, v) + 1e-8)
    return u * g * v.transpose(1, 2)


def sharpened_cost(distance: torch.Tensor, sharpen: float) -> torch.Tensor:
    """``1 - exp(-sharpen * distance)`` (the official
    ``COST_MATRIX_SHARPEN``; 0 keeps ``distance``)."""
    if sharpen == 0:
        return distance
    return 1 - torch.exp(-sharpen * distance)


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Linear CKA of two ``[N, D]`` feature sets whose rows are paired.

    Each set is centred by its column means, then

    .. math::
        \\mathrm{CKA}(X, Y) = \\frac{\\lVert Y^\\top X \\rVert_F^2}
            {\\lVert X^\\top X \\rVert_F \\, \\lVert Y^\\top Y \\rVert_F}

    (Kornblith et al. 2019, eq. 5; the official WKD
    ``tools/generate_cost_matrix.py``, ``linear_CKA_precenter``). Row ``n``
    of ``x`` is compared with row ``n`` of ``y``.

    Args:
        x, y (Tensor): ``[N, D]`` and ``[N, D']``.

    Returns:
        Tensor: A scalar in ``[0, 1]``.
    """
    x = x - x.mean(0, keepdim=True)
    y = y - y.mean(0, keepdim=True)
    return (y.t() @ x).pow(2).sum() / (
        torch.linalg.matrix_norm(x.t() @ x) *
        torch.linalg.matrix_norm(y.t() @ y))


def linear_cka_cost(class_feats: torch.Tensor) -> torch.Tensor:
    """WKD's category cost: ``C_ij = 1 - CKA(F_i, F_j)``.

    ``F_k`` is the ``[N, D]`` feature set of class ``k`` (the same ``N``
    for every class, rows paired by position, as the official
    ``generate_cost_matrix.py``). The products are float32 (as the official
    code), their sums float64; the diagonal is set to exactly 0 (as in the
    official files). The result is symmetric and
    is the ``cost_matrix`` of :class:`WKDLogitLoss` (which sharpens it).

    Args:
        class_feats (Tensor): ``[K, N, D]``.

    Returns:
        Tensor: ``[K, K]`` float32 costs in ``[0, 1]``.

    Raises:
        ValueError: Not ``[K, N, D]`` with ``N >= 2``, or a class whose
            features do not vary (its CKA is undefined).
    """
    if class_feats.dim() != 3 or class_feats.shape[1] < 2:
        raise ValueError('linear_cka_cost: class_feats must be [K, N, D] '
                         'with N >= 2 samples per class, got '
                         f'{tuple(class_feats.shape)}.')
    k = class_feats.shape[0]
    f = class_feats.float()
    f = f - f.mean(1, keepdim=True)
    norms = torch.zeros(k, dtype=torch.float64)  # ||F_c^T F_c||_F
    for c in range(k):
        norms[c] = torch.linalg.matrix_norm(f[c].t() @ f[c]).double()
    flat = (norms == 0).nonzero().flatten().tolist()
    if flat:
        raise ValueError(f'linear_cka_cost: the features of class(es) {flat} '
                         'are constant, so their CKA is undefined; check the '
                         'checkpoint or use other features.')
    cost = torch.zeros(k, k, dtype=torch.float64)
    for i in range(k):
        for j in range(i + 1, k):  # D x D products, never N x N
            hsic = (f[j].t() @ f[i]).double().pow(2).sum()
            cost[i, j] = cost[j, i] = 1 - hsic / (norms[i] * norms[j])
    return cost.float()


@DISTILL_LOSSES.register_module()
class WKDLogitLoss(EpochAware, nn.Module):
    """WKD-L: discrete Wasserstein distance over the non-target classes.

    With ``t`` the ground-truth class, ``p`` the softmax without
    temperature and ``q^S, q^T = softmax(z_{k != t} / tau)`` over the
    ``K - 1`` other classes:

    .. math::
        L = -\\overline{p^T_t \\log p^S_t} + \\gamma \\,
            \\overline{\\langle \\Pi(q^S, q^T), C \\rangle}

    where ``Pi`` is Sinkhorn's entropic transport plan (regulariser
    ``reg``, ``iters`` iterations) and ``C = relu(C_0) + 1e-8`` the
    category cost restricted to the non-target classes. ``C_0`` is a
    ``[K, K]`` dissimilarity between the teacher's classes, sharpened to
    ``1 - exp(-sharpen C)``: the official code's linear-CKA matrix of the
    teacher's class features (its ``wkd_cost_matrix/*/linear_cka.pth``,
    pass the file's path) or ``1 - cosine similarity`` of the teacher's
    classifier weights (:meth:`cost_from_classifier`). Gradients flow into
    the student through the Sinkhorn iterations, as in the official code.

    ``gamma = loss_weight``, cosine-decayed to 0 from ``decay_start_epoch``
    to ``max_epochs`` (official ``COSINE_DECAY_EPOCH``); ``LossEpochHook``
    calls :meth:`set_epoch`. The target term is not weighted by gamma (as
    the official code).

    Args:
        cost_matrix (str | Tensor): ``[K, K]`` class dissimilarities, or
            the path of a ``.pth`` file holding them (loaded with
            ``weights_only=True``).
        tau (float): Temperature of the non-target distributions.
            Defaults to 8.0 (official CIFAR-100; ImageNet 2.0).
        loss_weight (float): ``gamma``. Defaults to 600.0 (CIFAR-100;
            ImageNet 30).
        sharpen (float): Sharpening of the cost. Defaults to 1.0.
        reg (float): Sinkhorn's entropic regulariser. Defaults to 0.05.
        iters (int): Sinkhorn iterations. Defaults to 10.
        decay_start_epoch (int, optional): Epoch after which gamma decays;
            None keeps it constant. Defaults to None.
        max_epochs (int): Last epoch of the decay. Defaults to 240.
    """

    def __init__(self,
                 cost_matrix: Union[str, torch.Tensor],
                 tau: float = 8.,
                 loss_weight: float = 600.,
                 sharpen: float = 1.,
                 reg: float = 0.05,
                 iters: int = 10,
                 decay_start_epoch: Optional[int] = None,
                 max_epochs: int = 240) -> None:
        super().__init__()
        if isinstance(cost_matrix, str):
            try:
                cost_matrix = torch.load(cost_matrix, map_location='cpu',
                                         weights_only=True)
            except FileNotFoundError as e:
                raise FileNotFoundError(
                    f'WKDLogitLoss: cost_matrix file {cost_matrix!r} does not '
                    "exist; download the official wkd_cost_matrix file (see "
                    'configs/wkd/README.md) or pass a [K, K] tensor.') from e
        cost_matrix = torch.as_tensor(cost_matrix, dtype=torch.float32)
        if cost_matrix.dim() != 2 or cost_matrix.shape[0] != \
                cost_matrix.shape[1]:
            raise ValueError('WKDLogitLoss: cost_matrix must be [K, K], got '
                             f'{tuple(cost_matrix.shape)}.')
        if tau <= 0 or reg <= 0 or iters < 1:
            raise ValueError('WKDLogitLoss: tau and reg must be positive and '
                             f'iters >= 1, got {tau}, {reg}, {iters}.')
        self.register_buffer(
            'cost', F.relu(sharpened_cost(cost_matrix, sharpen)) + 1e-8)
        self.tau = tau
        self.loss_weight = loss_weight
        self.reg = reg
        self.iters = iters
        self.decay_start_epoch = decay_start_epoch
        self.max_epochs = max_epochs
        self.gamma = loss_weight

    @staticmethod
    def cost_from_classifier(weight: torch.Tensor) -> torch.Tensor:
        """``1 - cos(w_i, w_j)`` of a classifier's ``[K, C]`` weight (the
        official ``COST_MATRIX: 'fc'``)."""
        w = F.normalize(weight.detach().float(), dim=-1)
        return 1 - w @ w.t()

    def set_epoch(self, epoch: int) -> None:
        """``gamma`` of epoch ``epoch`` (from 1)."""
        start = self.decay_start_epoch
        if start is None or epoch <= start:
            self.gamma = self.loss_weight
            return
        frac = min((epoch - start) / (self.max_epochs - start), 1.)
        self.gamma = 0.5 * self.loss_weight * (1 + math.cos(frac * math.pi))

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits ``[N, K]``.
            preds_T (Tensor): Teacher logits ``[N, K]`` (no gradient).
            gt_labels (Tensor): ``[N]`` class indices (or ``[N, K]`` soft
                labels, whose argmax is taken, as the official code).

        Returns:
            Tensor: The loss.
        """
        n, k = preds_S.shape
        if preds_T.shape != preds_S.shape or k != self.cost.shape[0]:
            raise ValueError(
                f'WKDLogitLoss: logits {tuple(preds_S.shape)} (student), '
                f'{tuple(preds_T.shape)} (teacher) and cost matrix '
                f'{tuple(self.cost.shape)} must share K classes; use the '
                "teacher's cost matrix for this dataset.")
        labels = gt_labels.argmax(1) if gt_labels.dim() > 1 else gt_labels
        labels = labels.view(n, 1)
        preds_T = preds_T.detach().float()
        preds_S = preds_S.float()
        log_p_s = F.log_softmax(preds_S, dim=1).gather(1, labels)
        p_t = F.softmax(preds_T, dim=1).gather(1, labels)
        target = -(p_t * log_p_s).mean()
        keep = torch.ones_like(preds_S, dtype=torch.bool).scatter_(
            1, labels, False)
        q_s = F.softmax(preds_S[keep].view(n, k - 1) / self.tau, dim=1)
        q_t = F.softmax(preds_T[keep].view(n, k - 1) / self.tau, dim=1)
        pair = keep.unsqueeze(1) & keep.unsqueeze(2)
        cost = self.cost.expand(n, k, k)[pair].view(n, k - 1, k - 1)
        plan = sinkhorn(q_s, q_t, cost, self.reg, self.iters)
        wd = (plan * cost).sum((1, 2)).mean()
        return target + self.gamma * wd
