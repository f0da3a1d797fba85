"""Logit standardization (LS, Sun et al. CVPR 2024) in the logit losses.

``standardize_logits`` and the ``logit_stand`` option of KDLoss and DKDLoss
are checked against hand-computed numbers and plain numpy.
"""
import math

import numpy as np
import pytest
import torch

from mmkd.models.losses import DKDLoss, KDLoss
from mmkd.models.losses.utils import standardize_logits


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def np_zscore(z, ddof, eps):
    z = np.asarray(z, dtype=np.float64)
    mu = z.mean(axis=1, keepdims=True)
    sd = np.sqrt(((z - mu)**2).sum(axis=1, keepdims=True) /
                 (z.shape[1] - ddof))
    return (z - mu) / (sd + eps)


def test_standardize_hand_computed():
    z = torch.tensor([[1., 2., 3.], [0., 0., 6.]], dtype=torch.float64)
    # row 1: mean 2, squares 1+0+1 = 2; unbiased std sqrt(2/2) = 1,
    # population std sqrt(2/3); row 2: mean 2, squares 4+4+16 = 24,
    # unbiased std sqrt(12), population std sqrt(8)
    code = standardize_logits(z, 'code')
    assert torch.allclose(code[0], torch.tensor([-1., 0., 1.],
                                                dtype=torch.float64) /
                          (1 + 1e-7))
    assert torch.allclose(code[1], torch.tensor([-2., -2., 4.],
                                                dtype=torch.float64) /
                          (math.sqrt(12) + 1e-7))
    paper = standardize_logits(z, 'paper')
    s = 1 / math.sqrt(2 / 3)
    assert torch.allclose(paper[0], torch.tensor([-s, 0., s],
                                                 dtype=torch.float64))
    assert torch.allclose(paper[1], torch.tensor([-2., -2., 4.],
                                                 dtype=torch.float64) /
                          math.sqrt(8))
    # the paper's form has unit population variance, the code's not
    assert torch.allclose(paper.pow(2).mean(1), torch.ones(2).double())
    assert not torch.allclose(code.pow(2).mean(1), torch.ones(2).double())


def test_standardize_matches_numpy_and_constant_rows():
    z = rand(4, 7, seed=1)
    assert np.allclose(standardize_logits(z, 'code').numpy(),
                       np_zscore(z.numpy(), 1, 1e-7))
    assert np.allclose(standardize_logits(z, 'paper').numpy(),
                       np_zscore(z.numpy(), 0, 0.0))
    flat = torch.full((1, 5), 3.)
    for form in ('code', 'paper'):
        assert torch.equal(standardize_logits(flat, form), torch.zeros(1, 5))
    with pytest.raises(ValueError, match='form'):
        standardize_logits(z, 'both')


def test_kd_ls_hand_computed():
    s = torch.tensor([[1., 2., 3.]], dtype=torch.float64)
    t = torch.tensor([[0., 0., 6.]], dtype=torch.float64)
    # code form, tau = 1: z_s = [-1, 0, 1], z_t = [-2, -2, 4] / sqrt(12)
    zs = [-1., 0., 1.]
    zt = [-2 / math.sqrt(12), -2 / math.sqrt(12), 4 / math.sqrt(12)]
    ps = [math.exp(v) / sum(math.exp(u) for u in zs) for v in zs]
    pt = [math.exp(v) / sum(math.exp(u) for u in zt) for v in zt]
    kl = sum(a * math.log(a / b) for a, b in zip(pt, ps))
    got = KDLoss(tau=1, logit_stand='code')(s, t)
    assert got.item() == pytest.approx(kl, rel=1e-6)
    # True is the default form, 'code'
    assert KDLoss(tau=1, logit_stand=True)(s, t).item() == pytest.approx(
        got.item())
    # tau and loss_weight act after the standardization: 9 * 4 * KL(z/2)
    zs2, zt2 = [v / 2 for v in zs], [v / 2 for v in zt]
    ps = [math.exp(v) / sum(math.exp(u) for u in zs2) for v in zs2]
    pt = [math.exp(v) / sum(math.exp(u) for u in zt2) for v in zt2]
    kl2 = sum(a * math.log(a / b) for a, b in zip(pt, ps))
    got = KDLoss(tau=2, loss_weight=9, logit_stand='code')(s, t)
    assert got.item() == pytest.approx(9 * 4 * kl2, rel=1e-6)


def test_kd_ls_is_kd_of_standardized_logits():
    s, t = rand(5, 6, seed=2), rand(5, 6, seed=3) * 4 + 1
    for form, ddof, eps in (('code', 1, 1e-7), ('paper', 0, 0.)):
        zs = torch.from_numpy(np_zscore(s.numpy(), ddof, eps))
        zt = torch.from_numpy(np_zscore(t.numpy(), ddof, eps))
        got = KDLoss(tau=2, logit_stand=form)(s, t)
        assert got.item() == pytest.approx(KDLoss(tau=2)(zs, zt).item())
    # without LS the loss is not invariant to the teacher's logit scale
    assert KDLoss(tau=2)(s, t).item() != pytest.approx(
        KDLoss(tau=2)(s, 3 * t).item())


def test_ls_invariant_to_shift_and_scale():
    s, t = rand(3, 5, seed=4), rand(3, 5, seed=5)
    for form in ('code', 'paper'):
        ref = KDLoss(tau=2, logit_stand=form)(s, t)
        moved = KDLoss(tau=2, logit_stand=form)(0.3 * s - 2, 7 * t + 5)
        assert torch.allclose(moved, ref, rtol=1e-6)


def test_code_and_paper_forms_differ_by_a_temperature():
    # code z = paper z * sqrt((K - 1) / K): code at tau equals paper at
    # tau * sqrt(K / (K - 1)) up to the tau^2 factor
    k = 10
    s, t = rand(4, k, seed=6), rand(4, k, seed=7)
    tau = 2.
    tau_p = tau * math.sqrt(k / (k - 1))
    code = KDLoss(tau=tau, logit_stand='code')(s, t) / tau**2
    paper = KDLoss(tau=tau_p, logit_stand='paper')(s, t) / tau_p**2
    assert code.item() == pytest.approx(paper.item(), rel=1e-5)
    assert code.item() != pytest.approx(
        (KDLoss(tau=tau, logit_stand='paper')(s, t) / tau**2).item(),
        rel=1e-3)


def test_ls_gradient_is_shift_and_scale_free():
    # the loss is invariant to z -> a z + b, so the student's gradient is
    # orthogonal to the all-ones vector and to z - mean(z), row by row
    s = rand(3, 6, seed=8).requires_grad_()
    t = rand(3, 6, seed=9).requires_grad_()
    for form in ('code', 'paper'):
        s.grad = None
        KDLoss(tau=2, logit_stand=form)(s, t).backward()
        g = s.grad
        assert g.abs().max() > 1e-4
        assert torch.allclose(g.sum(1), torch.zeros(3).double(), atol=1e-10)
        centred = (s - s.mean(1, keepdim=True)).detach()
        assert torch.allclose((g * centred).sum(1), torch.zeros(3).double(),
                              atol=1e-6)
    assert t.grad is None


def test_dkd_ls_is_dkd_of_standardized_logits():
    s, t = rand(4, 6, seed=10), rand(4, 6, seed=11) * 3
    y = torch.tensor([0, 5, 2, 2])
    for form, ddof, eps in (('code', 1, 1e-7), ('paper', 0, 0.)):
        zs = torch.from_numpy(np_zscore(s.numpy(), ddof, eps))
        zt = torch.from_numpy(np_zscore(t.numpy(), ddof, eps))
        got = DKDLoss(alpha=9, beta=72, tau=2, logit_stand=form)(s, t, y)
        ref = DKDLoss(alpha=9, beta=72, tau=2)(zs, zt, y)
        assert got.item() == pytest.approx(ref.item())
    assert DKDLoss(logit_stand=True).logit_stand == 'code'


@pytest.mark.parametrize('cls', [KDLoss, DKDLoss])
def test_logit_stand_errors(cls):
    with pytest.raises(ValueError, match='logit_stand must be'):
        cls(logit_stand='zscore')
    assert cls().logit_stand is None
    assert cls(logit_stand=False).logit_stand is None
