"""WKD-L (Lv et al., NeurIPS 2024): Sinkhorn and the logit loss."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmkd.models.losses import WKDLogitLoss
from mmkd.models.losses.wkd import sinkhorn


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def np_sinkhorn(p, q, cost, reg, iters):
    """The official iteration, one sample, in numpy."""
    g = np.exp(-cost / reg)
    u = np.full(len(p), 1. / len(p))
    for _ in range(iters):
        v = q / (g.T @ u + 1e-8)
        u = p / (g @ v + 1e-8)
    return u[:, None] * g * v[None, :]


def test_sinkhorn_matches_numpy_and_its_marginals():
    p = F.softmax(rand(3, 4, seed=1), 1)
    q = F.softmax(rand(3, 4, seed=2), 1)
    cost = torch.rand(4, 4, generator=torch.Generator().manual_seed(3),
                      dtype=torch.float64)
    plan = sinkhorn(p, q, cost, reg=0.1, iters=50)
    for i in range(3):
        ref = np_sinkhorn(p[i].numpy(), q[i].numpy(), cost.numpy(), 0.1, 50)
        assert np.allclose(plan[i].numpy(), ref)
    # converged: the plan's marginals are p and q
    assert torch.allclose(plan.sum(2), p, atol=1e-5)
    assert torch.allclose(plan.sum(1), q, atol=1e-5)


def test_hand_computed_constant_cost():
    # K = 3, target class 0. With every cost equal to c the entropic plan
    # is the product q_S q_T^T (Sinkhorn converges in one step), so the
    # transport cost is exactly c: WD = 0.5 whatever the distributions.
    s = torch.tensor([[0., 0., 0.]], dtype=torch.float64)
    t = torch.tensor([[0., math.log(3), 0.]], dtype=torch.float64)
    loss = WKDLogitLoss(torch.full((3, 3), 0.5), tau=1., loss_weight=2.,
                        sharpen=0.)
    got = loss(s, t, torch.tensor([0]))
    # target term: -p_T[0] log p_S[0] = -(1/5) log(1/3)
    target = -(1 / 5) * math.log(1 / 3)
    assert got.item() == pytest.approx(target + 2 * 0.5, rel=1e-6)


def test_matches_an_independent_transcription():
    s, t = rand(4, 6, seed=4), rand(4, 6, seed=5) * 2
    y = torch.tensor([0, 5, 2, 2])
    dist = torch.rand(6, 6, generator=torch.Generator().manual_seed(6),
                      dtype=torch.float64)
    dist = (dist + dist.t()) / 2
    loss = WKDLogitLoss(dist, tau=4., loss_weight=3., sharpen=1.)
    got = loss(s, t, y).item()
    cost = np.maximum(1 - np.exp(-dist.numpy()), 0) + 1e-8
    total = 0.
    for i in range(4):
        p_s, p_t = F.softmax(s[i], 0).numpy(), F.softmax(t[i], 0).numpy()
        total += -p_t[y[i]] * np.log(p_s[y[i]]) / 4
        keep = [k for k in range(6) if k != y[i]]
        q_s = F.softmax(s[i, keep] / 4, 0).numpy()
        q_t = F.softmax(t[i, keep] / 4, 0).numpy()
        c = cost[np.ix_(keep, keep)]
        plan = np_sinkhorn(q_s, q_t, c, 0.05, 10)
        total += 3 * (plan * c).sum() / 4
    assert got == pytest.approx(total, rel=1e-5)


def test_gradient_student_only_and_decay():
    s = rand(3, 5, seed=7).requires_grad_()
    t = rand(3, 5, seed=8).requires_grad_()
    loss = WKDLogitLoss(torch.ones(5, 5) - torch.eye(5), decay_start_epoch=150,
                        max_epochs=240)
    loss(s, t, torch.tensor([0, 1, 2])).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    loss.set_epoch(150)
    assert loss.gamma == 600.
    loss.set_epoch(195)  # halfway: 600 (1 + cos(pi / 2)) / 2
    assert loss.gamma == pytest.approx(300.)
    loss.set_epoch(240)
    assert loss.gamma == pytest.approx(0., abs=1e-9)
    cost = WKDLogitLoss.cost_from_classifier(torch.tensor([[1., 0.],
                                                           [0., 1.]]))
    assert torch.allclose(cost, torch.tensor([[0., 1.], [1., 0.]]))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match='share K classes'):
        WKDLogitLoss(torch.zeros(4, 4))(torch.zeros(2, 5), torch.zeros(2, 5),
                                        torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'\[K, K\]'):
        WKDLogitLoss(torch.zeros(4, 3))
    with pytest.raises(FileNotFoundError, match='wkd_cost_matrix'):
        WKDLogitLoss(str(tmp_path / 'missing.pth'))
    path = tmp_path / 'cost.pth'
    torch.save(torch.ones(3, 3), path)
    assert WKDLogitLoss(str(path)).cost.shape == (3, 3)


# Linear CKA category cost (the official tools/generate_cost_matrix.py)
# 3 classes, 4 samples each, 2-dim features; +(3, 5) tests the centring.
CKA_FEATS = torch.tensor([
    [[1., 0.], [-1., 0.], [0., 1.], [0., -1.]],
    [[2., 0.], [-2., 0.], [0., 0.], [0., 0.]],
    [[1., 1.], [1., -1.], [-1., 1.], [-1., -1.]],
]) + torch.tensor([3., 5.])


def test_linear_cka_cost_by_hand():
    from mmkd.models.losses.wkd import linear_cka, linear_cka_cost
    # centred X, Y, Z: X^T X = diag(2, 2), Y^T Y = diag(8, 0),
    # Z^T Z = diag(4, 4); Y^T X = [[4, 0], [0, 0]], Z^T X = [[0, 0], [2, 2]],
    # Z^T Y = [[0, 0], [4, 0]]; CKA = ||B^T A||^2 / (||A^T A|| ||B^T B||):
    # (X, Y) 16 / (sqrt(8) 8) = 1/sqrt(2), (X, Z) 8 / (sqrt(8) sqrt(32))
    # = 1/2, (Y, Z) 16 / (8 sqrt(32)) = 1/(2 sqrt(2))
    x, y, z = CKA_FEATS
    assert linear_cka(x, y).item() == pytest.approx(1 / math.sqrt(2))
    assert linear_cka(x, z).item() == pytest.approx(0.5)
    assert linear_cka(y, z).item() == pytest.approx(1 / (2 * math.sqrt(2)))
    assert linear_cka(x, x).item() == pytest.approx(1.)
    a, b, c = 1 - 1 / math.sqrt(2), 0.5, 1 - 1 / (2 * math.sqrt(2))
    cost = linear_cka_cost(CKA_FEATS)
    assert cost.dtype == torch.float32
    assert torch.allclose(cost, torch.tensor([[0, a, b], [a, 0, c],
                                              [b, c, 0.]]))
    assert torch.equal(cost, cost.t()) and torch.equal(cost.diag(),
                                                       torch.zeros(3))


def np_kernel_cka(x, y):
    """Linear CKA in its kernel form (Kornblith et al. 2019, eq. 3):
    HSIC of the centred Gram matrices, an independent formula."""
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    kx, ky = h @ x @ x.T @ h, h @ y @ y.T @ h
    return (kx * ky).sum() / np.sqrt((kx * kx).sum() * (ky * ky).sum())


def test_linear_cka_cost_matches_the_kernel_form():
    from mmkd.models.losses.wkd import linear_cka_cost
    feats = rand(4, 6, 3, seed=7) + rand(4, 1, 3, seed=8)
    cost = linear_cka_cost(feats).double()
    f = feats.numpy()
    for i in range(4):
        for j in range(4):
            want = 0. if i == j else 1 - np_kernel_cka(f[i], f[j])
            assert cost[i, j].item() == pytest.approx(want, abs=1e-6)
    assert (cost >= 0).all() and (cost <= 1).all()
    # usable as WKDLogitLoss's cost matrix as is
    WKDLogitLoss(cost)(rand(2, 4, seed=9), rand(2, 4, seed=10),
                       torch.tensor([0, 3]))


def test_linear_cka_cost_refuses_bad_features():
    from mmkd.models.losses.wkd import linear_cka_cost
    with pytest.raises(ValueError, match=r'\[K, N, D\] with N >= 2'):
        linear_cka_cost(torch.ones(3, 1, 2))
    feats = CKA_FEATS.clone()
    feats[1] = 7.
    with pytest.raises(ValueError, match=r'class\(es\) \[1\] are constant'):
        linear_cka_cost(feats)
