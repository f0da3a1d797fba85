"""Peng et al., "Correlation Congruence for Knowledge Distillation",
ICCV 2019."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class CCLoss(nn.Module):
    """Correlation congruence between student and teacher embeddings.

    Two forms, chosen by ``mode``:

    ``mode='repdistiller'`` (default; the form RepDistiller's ``Correlation``
    computes and its CIFAR-100 numbers used). With ``\\Delta_i = |f^S_i -
    f^T_i|`` (element-wise, one row per sample, in batch order):

    .. math::
        L = w \\cdot \\frac{1}{N-1} \\sum_{i=1}^{N-1}
            \\sum_d \\Delta_{i,d} \\, \\Delta_{i+1,d}

    This only couples each sample with the next one in the batch; it is
    not the paper's kernel loss (RepDistiller credits it to code the
    paper's author sent, and it is what its benchmark ran).

    ``mode='gaussian_rbf'`` (the paper's kernel correlation). Each embedding is
    L2-normalised, so ``||f_i - f_j||^2 = 2 - 2 f_i^T f_j`` and the Gaussian
    RBF kernel is expanded in a Taylor series of order ``P``:

    .. math::
        k(f_i, f_j) = \\exp(-\\gamma \\|f_i - f_j\\|^2) \\approx
            \\sum_{p=0}^{P} e^{-2\\gamma} \\frac{(2\\gamma)^p}{p!}
            (f_i^T f_j)^p

    .. math::
        L = w \\cdot \\frac{1}{N^2} \\, \\| \\Psi(F_S) - \\Psi(F_T) \\|_F^2,
        \\qquad \\Psi(F)_{ij} = k(f_i, f_j)

    with the paper's ``P = 2`` and ``gamma = 0.4``. The normalisation is
    what makes the expansion equal the RBF kernel; the paper states the
    kernel on embeddings, this implementation normalises inside the loss.

    RepDistiller setup: a linear embedding (no normalisation) of the pooled
    feature of each model to 128 dims, i.e. two ``LinearConnector`` s on the
    taps ``student.head.fc:input`` and ``teacher.head.fc:input``, weight
    0.02, no KD term (``-a 0 -b 0.02``).

    Gradient to the teacher side: RepDistiller trains the teacher's
    embedding too (it is in the optimiser's list), so by default this loss
    does **not** detach ``feats_T``: with a teacher-side connector, the
    connector learns; the frozen teacher itself gets no gradient either way
    (its features are computed under ``no_grad``). Set
    ``detach_teacher=True`` to treat ``feats_T`` as a constant target.

    Args:
        mode (str): ``'repdistiller'`` or ``'gaussian_rbf'``. Defaults to
            ``'repdistiller'``.
        gamma (float): RBF ``gamma`` for ``'gaussian_rbf'``. Defaults to 0.4.
        p_order (int): Taylor order ``P`` for ``'gaussian_rbf'``. Defaults
            to 2.
        detach_teacher (bool): Stop the gradient into ``feats_T``.
            Defaults to False (RepDistiller trains the teacher embedding).
        loss_weight (float): Weight ``w``. Defaults to 1.0 (RepDistiller
            uses 0.02).

    Examples:
        >>> loss = CCLoss(loss_weight=0.02)
        >>> loss(torch.randn(8, 128), torch.randn(8, 128)).shape
        torch.Size([])
    """

    _modes = ('repdistiller', 'gaussian_rbf')

    def __init__(self,
                 mode: str = 'repdistiller',
                 gamma: float = 0.4,
                 p_order: int = 2,
                 detach_teacher: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in self._modes:
            raise ValueError(f'CCLoss: mode must be one of {self._modes}, '
                             f'got {mode!r}.')
        if gamma <= 0:
            raise ValueError(f'CCLoss: gamma must be positive, got {gamma}.')
        if not isinstance(p_order, int) or p_order < 0:
            raise ValueError('CCLoss: p_order must be a non-negative int, '
                             f'got {p_order!r}.')
        self.mode = mode
        self.gamma = gamma
        self.p_order = p_order
        self.detach_teacher = detach_teacher
        self.loss_weight = loss_weight

    def correlation(self, feats: torch.Tensor) -> torch.Tensor:
        """``[N, D]`` -> Taylor-expanded RBF correlation matrix ``[N, N]``."""
        f = F.normalize(feats, dim=1)
        sim = f @ f.t()
        two_gamma = 2 * self.gamma
        corr = torch.zeros_like(sim)
        for p in range(self.p_order + 1):
            coef = math.exp(-two_gamma) * two_gamma**p / math.factorial(p)
            corr = corr + coef * sim.pow(p)
        return corr

    def forward(self, feats_S: torch.Tensor,
                feats_T: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S (Tensor): Student embedding ``[N, D]`` (a 4-d map is
                flattened per sample).
            feats_T (Tensor): Teacher embedding of the same shape.

        Returns:
            Tensor: The weighted scalar loss.
        """
        if feats_S.shape != feats_T.shape:
            raise ValueError(
                f'CCLoss: student embedding {tuple(feats_S.shape)} and '
                f'teacher embedding {tuple(feats_T.shape)} differ; embed both '
                'to the same size with two LinearConnectors '
                '(out_channels=128 in RepDistiller).')
        if feats_S.shape[0] < 2:
            raise ValueError(
                f'CCLoss needs at least 2 samples per batch, got '
                f'{feats_S.shape[0]}; use a larger batch size.')
        if self.detach_teacher:
            feats_T = feats_T.detach()
        f_s, f_t = feats_S.flatten(1), feats_T.flatten(1)
        if self.mode == 'repdistiller':
            delta = (f_s - f_t).abs()
            loss = (delta[:-1] * delta[1:]).sum(dim=1).mean()
        else:
            loss = (self.correlation(f_s) - self.correlation(f_t)).pow(2)
            loss = loss.mean()
        return self.loss_weight * loss
