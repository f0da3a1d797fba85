"""Zero-cost NAS proxies the DisWOT paper compares against.

Definitions follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight
NAS", ICLR 2021 (grad_norm, snip, synflow, jacob_cov), Mellor et al.,
"Neural Architecture Search without Training", ICML 2021 (NWOT), and the
plain parameter / FLOP counts. Every score: higher is better.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer
from torch.nn.modules.batchnorm import _BatchNorm

from mmkd.registry import PROXIES
from .base import BaseProxy, apply_init, weight_layers


class _CEGradProxy(BaseProxy):
    """Backpropagates CE on the batch (train mode), then reads the grads."""

    def __init__(self, init: Optional[str] = None) -> None:
        apply_init(nn.Identity(), init)
        self.init = init

    def _backward(self, model, inputs, labels) -> None:
        apply_init(model, self.init)
        model.train()
        model.zero_grad(set_to_none=True)
        with torch.enable_grad():
            logits = model(inputs, mode='tensor')
            F.cross_entropy(logits, labels).backward()


@PROXIES.register_module()
class GradNorm(_CEGradProxy):
    """grad_norm: ``sum_l ||dL/dW_l||_2`` over conv and linear weights,
    ``L`` the cross-entropy of one batch (Abdelfattah et al. 2021).

    Args:
        init (str, optional): ``'normal'`` re-initialises first; None keeps
            the model's own init. Defaults to None.
    """

    def score(self, model, inputs, labels) -> float:
        self._backward(model, inputs, labels)
        return sum(
            float(m.weight.grad.detach().norm())
            for m in weight_layers(model).values()
            if m.weight.grad is not None)


@PROXIES.register_module()
class SNIP(_CEGradProxy):
    """snip: ``sum |W * dL/dW|`` over conv and linear weights (Lee et al.,
    ICLR 2019, as a network score in Abdelfattah et al. 2021)."""

    def score(self, model, inputs, labels) -> float:
        self._backward(model, inputs, labels)
        return sum(
            float((m.weight.detach() * m.weight.grad).abs().sum())
            for m in weight_layers(model).values()
            if m.weight.grad is not None)


def _strip_norms(model: nn.Module) -> nn.Module:
    """Replace every batch-norm module by ``nn.Identity`` (in place)."""
    for name, child in list(model.named_children()):
        if isinstance(child, _BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _strip_norms(child)
    return model


@PROXIES.register_module()
class SynFlow(BaseProxy):
    """synflow (Tanaka et al., NeurIPS 2020): on a copy of the network with
    batch norms removed, weights replaced by their absolute values and in
    float64, ``R = sum(f(1))`` for an all-ones input of one sample;
    score ``= sum |W * dR/dW|`` over conv and linear weights. Data-free.

    Args:
        init (str, optional): ``'normal'`` re-initialises first. Defaults
            to None.
    """

    def __init__(self, init: Optional[str] = None) -> None:
        apply_init(nn.Identity(), init)
        self.init = init

    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        net = _strip_norms(model).double()
        net.requires_grad_(True)
        with torch.no_grad():
            for p in net.parameters():
                p.abs_()
        net.zero_grad(set_to_none=True)
        with torch.enable_grad():
            ones = torch.ones((1, ) + tuple(inputs.shape[1:]),
                              dtype=torch.float64)
            net(ones, mode='tensor').sum().backward()
        return sum(
            float((m.weight.detach() * m.weight.grad).abs().sum())
            for m in weight_layers(net).values()
            if m.weight.grad is not None)


@PROXIES.register_module()
class NWOT(BaseProxy):
    """NASWOT (Mellor et al. 2021): ``log|det K_H|`` with
    ``K_H = sum_relu (c c^T + (1 - c)(1 - c)^T)``, ``c`` the ``[N, D]`` 0/1
    codes (unit active or not) of each ReLU's output over the batch.

    Args:
        init (str, optional): ``'normal'`` re-initialises first. Defaults
            to None.
    """

    min_batch = 2

    def __init__(self, init: Optional[str] = None) -> None:
        apply_init(nn.Identity(), init)
        self.init = init

    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        n = inputs.shape[0]
        k = torch.zeros(n, n, dtype=torch.float64)

        def hook(module, args, output):
            c = (output.detach().reshape(n, -1) > 0).double()
            k.add_(c @ c.t() + (1 - c) @ (1 - c).t())

        relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
        if not relus:
            raise TypeError('NWOT needs nn.ReLU modules in the candidate; '
                            f'{type(model).__name__} has none.')
        handles = [m.register_forward_hook(hook) for m in relus]
        try:
            model.train()
            with torch.no_grad():
                model(inputs, mode='tensor')
        finally:
            for h in handles:
                h.remove()
        return float(torch.linalg.slogdet(k)[1])


@PROXIES.register_module()
class JacobCov(BaseProxy):
    """jacob_cov (Mellor et al. 2020 v1, as Abdelfattah et al. 2021): ``J``
    the ``[N, D]`` gradients of ``sum(f(x))`` w.r.t. each input,
    ``Sigma = corrcoef(J)`` with eigenvalues ``v``, score
    ``= -sum(log(v + k) + 1 / (v + k))``, ``k = 1e-5``.
    """

    min_batch = 2

    def __init__(self, init: Optional[str] = None, k: float = 1e-5) -> None:
        apply_init(nn.Identity(), init)
        self.init = init
        self.k = k

    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        model.train()
        x = inputs.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            model(x, mode='tensor').sum().backward()
        jac = x.grad.reshape(x.shape[0], -1).double()
        corr = torch.corrcoef(jac)
        v = torch.linalg.eigvalsh(corr)
        return float(-torch.sum(torch.log(v + self.k) + 1.0 / (v + self.k)))


@PROXIES.register_module()
class Params(BaseProxy):
    """The candidate's parameter count (a strong baseline in S1)."""

    def score(self, model, inputs, labels) -> float:
        return float(count_params(model))


@PROXIES.register_module()
class FLOPs(BaseProxy):
    """The candidate's FLOPs for one input, counted by mmengine's
    ``FlopAnalyzer`` (one fused multiply-add counts as one flop)."""

    def score(self, model, inputs, labels) -> float:
        return float(count_flops(model, tuple(inputs.shape[1:])))


class _TensorForward(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def count_params(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, input_shape: Tuple[int, ...]) -> int:
    """FLOPs of one ``input_shape`` sample, via mmengine's FlopAnalyzer."""
    training = model.training
    model.eval()
    try:
        analyzer = FlopAnalyzer(
            _TensorForward(model), torch.zeros((1, ) + tuple(input_shape)))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return int(analyzer.total())
    finally:
        model.train(training)


@PROXIES.register_module()
class GraSP(_CEGradProxy):
    """GraSP (Wang et al., ICLR 2020), as a network score (Abdelfattah et
    al. 2021): ``g = dL/dW`` over conv and linear weights, ``Hg`` the
    Hessian-gradient product, score ``= sum -(W * Hg)``. ``L`` is the
    cross-entropy of one batch, in train mode.

    Args:
        init (str, optional): ``'normal'`` re-initialises first. Defaults
            to None.
    """

    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        model.train()
        weights = [m.weight for m in weight_layers(model).values()]
        with torch.enable_grad():
            loss = F.cross_entropy(model(inputs, mode='tensor'), labels)
            grads = torch.autograd.grad(loss, weights, create_graph=True)
            z = sum((g * g.detach()).sum() for g in grads)
            hg = torch.autograd.grad(z, weights)
        return float(sum((-w.detach() * h).sum() for w, h in zip(weights,
                                                                  hg)))


@PROXIES.register_module()
class Fisher(BaseProxy):
    """fisher (Turner et al., ICLR 2020, as Abdelfattah et al. 2021): for
    the output ``a`` of every conv and linear layer and ``g = dL/da``,
    per channel ``0.5 * mean_n (sum_{h,w} a * g)^2``, summed over channels
    and layers. ``L``: cross-entropy of one batch, train mode.

    Args:
        init (str, optional): ``'normal'`` re-initialises first. Defaults
            to None.
    """

    def __init__(self, init: Optional[str] = None) -> None:
        apply_init(nn.Identity(), init)
        self.init = init

    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        model.train()
        acts = []
        handles = [
            m.register_forward_hook(lambda mod, a, out: acts.append(out))
            for m in weight_layers(model).values()
        ]
        try:
            with torch.enable_grad():
                loss = F.cross_entropy(model(inputs, mode='tensor'), labels)
                grads = torch.autograd.grad(loss, acts)
        finally:
            for h in handles:
                h.remove()
        total = 0.0
        for a, g in zip(acts, grads):
            prod = (a.detach() * g)
            if prod.dim() > 2:
                prod = prod.sum(dim=tuple(range(2, prod.dim())))
            total += float((0.5 * prod.pow(2).mean(0)).sum())
        return total


@PROXIES.register_module()
class ZenScore(BaseProxy):
    """Zen-score (Lin et al., "Zen-NAS", ICCV 2021), data-free:

    .. math::
        Zen = \\log \\mathbb{E}_n \\| f(x_n) - f(x_n + \\alpha \\epsilon_n)
        \\|_F + \\sum_i \\log \\sqrt{\\mathrm{mean}_j\\, \\sigma_{i,j}^2}

    ``f`` the map before global pooling (``backbone(x)[feat_index]``),
    ``x, epsilon ~ N(0, 1)`` of the batch's shape, ``alpha = 0.01``, and
    ``sigma_{i,j}^2`` the batch variance of channel ``j`` at the input of
    batch norm ``i`` during the forward of ``x`` (train mode). The Zen-NAS
    code reads BN ``running_var`` after both forwards and uses an L1 norm
    (``norm='l1'``); mmkd follows the paper's formula by default.

    Args:
        alpha (float): Perturbation size. Defaults to 0.01.
        norm (str): ``'fro'`` (paper) or ``'l1'`` (Zen-NAS code).
        feat_index (int): Backbone output used as ``f``. Defaults to -1.
        init (str, optional): Defaults to ``'normal'`` (Zen-NAS's Gaussian
            init).
    """

    def __init__(self, alpha: float = 0.01, norm: str = 'fro',
                 feat_index: int = -1,
                 init: Optional[str] = 'normal') -> None:
        if norm not in ('fro', 'l1'):
            raise ValueError(f"ZenScore: norm={norm!r}; use 'fro' or 'l1'.")
        apply_init(nn.Identity(), init)
        self.alpha = alpha
        self.norm = norm
        self.feat_index = feat_index
        self.init = init

    @torch.no_grad()
    def score(self, model, inputs, labels) -> float:
        apply_init(model, self.init)
        model.train()
        x = torch.randn_like(inputs)
        eps = torch.randn_like(inputs)
        variances = []

        def hook(module, args, output):
            a = args[0]
            dims = [0] + list(range(2, a.dim()))
            variances.append(a.var(dim=dims, unbiased=False).mean())

        handles = [
            m.register_forward_hook(hook) for m in model.modules()
            if isinstance(m, _BatchNorm)
        ]
        try:
            f1 = model.backbone(x)[self.feat_index]
        finally:
            for h in handles:
                h.remove()
        f2 = model.backbone(x + self.alpha * eps)[self.feat_index]
        diff = (f1 - f2).flatten(1)
        delta = (diff.norm(dim=1) if self.norm == 'fro' else
                 diff.abs().sum(1)).mean()
        bn = sum(float(torch.log(torch.sqrt(v))) for v in variances)
        return float(torch.log(delta)) + bn
