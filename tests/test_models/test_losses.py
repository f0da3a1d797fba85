"""Tests of the distillation losses (mmkd/models/losses).

Each loss is checked against an independent, deliberately plain
implementation (numpy, loops) or a hand-computed number.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmkd.models.losses import (ATLoss, DISTLoss, DKDLoss, HintLoss,
                                ICKDLoss, KDLoss, PKTLoss, RKDLoss, SPLoss)
from mmkd.registry import DISTILL_LOSSES, MODELS


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: one thread avoids OpenMP contention on busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def npy(x):
    return x.detach().double().numpy()


def np_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def np_smooth_l1(a, b):
    d = np.abs(a - b)
    return np.where(d < 1, 0.5 * d**2, d - 0.5).mean()


# --------------------------------------------------------------------- KD
def test_kd_matches_torch_kl_div():
    s, t = rand(4, 7, seed=1), rand(4, 7, seed=2)
    for tau in (1., 4.):
        ref = F.kl_div(
            F.log_softmax(s / tau, dim=1), F.softmax(t / tau, dim=1),
            reduction='batchmean') * tau**2
        assert torch.allclose(KDLoss(tau=tau)(s, t), ref)


def test_kd_hand_computed_two_classes():
    # p_T = [3/4, 1/4], p_S = [1/2, 1/2] at tau = 1
    s = torch.tensor([[0., 0.]])
    t = torch.tensor([[math.log(3.), 0.]])
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)  # 0.130812
    assert KDLoss(tau=1)(s, t).item() == pytest.approx(expected, rel=1e-5)
    # tau = 2 and weight 0.5: p_T = softmax([ln3/2, 0]) = [sqrt3, 1]/(1+sqrt3)
    q = math.sqrt(3) / (1 + math.sqrt(3))
    expected = q * math.log(2 * q) + (1 - q) * math.log(2 * (1 - q))
    got = KDLoss(tau=2, loss_weight=0.5)(s, t).item()
    assert got == pytest.approx(0.5 * 4 * expected, rel=1e-5)


def test_kd_reductions():
    s, t = rand(3, 5, seed=3), rand(3, 5, seed=4)
    per_sample = KDLoss(reduction='none')(s, t)
    assert per_sample.shape == (3, )
    assert torch.allclose(KDLoss(reduction='sum')(s, t), per_sample.sum())
    assert torch.allclose(KDLoss()(s, t), per_sample.mean())
    assert torch.allclose(
        KDLoss(reduction='mean')(s, t), per_sample.sum() / 15)
    with pytest.raises(ValueError, match='reduction'):
        KDLoss(reduction='avg')


@pytest.mark.parametrize('tau', [0, -1.])
def test_kd_tau_must_be_positive(tau):
    with pytest.raises(ValueError, match='tau must be positive'):
        KDLoss(tau=tau)


# --------------------------------------------------------------------- Hint
def test_hint_value_and_reductions():
    s, t = rand(2, 3, 4, 4, seed=1), rand(2, 3, 4, 4, seed=2)
    ref = ((npy(s) - npy(t))**2)
    assert HintLoss()(s, t).item() == pytest.approx(ref.mean())
    assert HintLoss(reduction='sum')(s, t).item() == pytest.approx(ref.sum())
    assert np.allclose(npy(HintLoss(reduction='none')(s, t)), ref)
    assert HintLoss(loss_weight=100)(s, t).item() == pytest.approx(
        100 * ref.mean())
    # hand-computed: all-zero student, all-one teacher
    assert HintLoss()(torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)) == 1


def test_hint_shape_mismatch_names_connector():
    with pytest.raises(ValueError, match='ConvConnector'):
        HintLoss()(torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match='reduction'):
        HintLoss(reduction='batchmean')


# --------------------------------------------------------------------- AT
def np_attention(f, p=2):
    n, c, h, w = f.shape
    out = np.zeros((n, h * w))
    for i in range(n):
        for y in range(h):
            for x in range(w):
                out[i, y * w + x] = np.mean(np.abs(f[i, :, y, x])**p)
        out[i] /= np.linalg.norm(out[i])
    return out


def np_block_mean(f, k):
    n, c, h, w = f.shape
    return f.reshape(n, c, h // k, k, w // k, k).mean(axis=(3, 5))


def test_at_value():
    s, t = rand(2, 3, 4, 4, seed=1), rand(2, 5, 4, 4, seed=2)
    ref = (np_attention(npy(s)) - np_attention(npy(t)))**2
    assert ATLoss()(s, t).item() == pytest.approx(ref.mean())
    assert ATLoss(reduction='sum')(s, t).item() == pytest.approx(ref.sum())
    assert np.allclose(npy(ATLoss(reduction='none')(s, t)), ref)
    assert ATLoss(loss_weight=1000)(s, t).item() == pytest.approx(
        1000 * ref.mean())
    ref3 = (np_attention(npy(s), 3) - np_attention(npy(t), 3))**2
    assert ATLoss(p=3)(s, t).item() == pytest.approx(ref3.mean())


def test_at_hand_computed():
    # student attention [1, 0] -> normalised [1, 0]; teacher [1, 1] ->
    # [1, 1]/sqrt2; loss = mean((1 - 1/sqrt2)^2, (0 - 1/sqrt2)^2)
    s = torch.tensor([[[[1., 0.]]]])
    t = torch.tensor([[[[1., -1.]]]])  # |t|^2 = [1, 1]: |F| is used
    expected = ((1 - 2**-0.5)**2 + 0.5) / 2
    assert ATLoss()(s, t).item() == pytest.approx(expected)


def test_at_pools_the_larger_map():
    s, t = rand(2, 3, 4, 4, seed=3), rand(2, 5, 8, 8, seed=4)
    ref = (np_attention(npy(s)) - np_attention(np_block_mean(npy(t), 2)))**2
    assert ATLoss()(s, t).item() == pytest.approx(ref.mean())
    ref = (np_attention(np_block_mean(npy(t), 2)) - np_attention(npy(s)))**2
    assert ATLoss()(t, s).item() == pytest.approx(ref.mean())


def test_at_errors():
    with pytest.raises(ValueError, match='batch'):
        ATLoss()(torch.zeros(2, 3, 4, 4), torch.zeros(3, 3, 4, 4))
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        ATLoss()(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match='p must be positive'):
        ATLoss(p=0)


# --------------------------------------------------------------------- SP
def np_sp(fs, ft):
    n = fs.shape[0]
    a, b = fs.reshape(n, -1), ft.reshape(n, -1)
    total = 0.
    gs, gt = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            gs[i, j] = a[i] @ a[j]
            gt[i, j] = b[i] @ b[j]
    gs /= np.linalg.norm(gs, axis=1, keepdims=True)
    gt /= np.linalg.norm(gt, axis=1, keepdims=True)
    for i in range(n):
        for j in range(n):
            total += (gt[i, j] - gs[i, j])**2
    return total / n**2


def test_sp_value():
    s, t = rand(4, 3, 2, 2, seed=1), rand(4, 6, 4, 4, seed=2)
    assert SPLoss()(s, t).item() == pytest.approx(np_sp(npy(s), npy(t)))
    assert SPLoss(loss_weight=3000)(s, t).item() == pytest.approx(
        3000 * np_sp(npy(s), npy(t)))
    assert SPLoss()(s, t).shape == ()


def test_sp_hand_computed():
    # student rows orthogonal: G_S = I; teacher rows equal: G_T = 1/sqrt2
    s = torch.tensor([[1., 0.], [0., 1.]])
    t = torch.tensor([[1., 1.], [1., 1.]])
    expected = (2 * (1 - 2**-0.5)**2 + 2 * 0.5) / 4
    assert SPLoss()(s, t).item() == pytest.approx(expected)


def test_sp_batch_mismatch():
    with pytest.raises(ValueError, match='batch'):
        SPLoss()(torch.zeros(2, 3), torch.zeros(4, 3))


# --------------------------------------------------------------------- RKD
def np_rkd(fs, ft, wd=25., wa=50.):
    n = fs.shape[0]

    def dist(e):
        d = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    d[i, j] = np.linalg.norm(e[i] - e[j])
        return d / (d.sum() / (n * (n - 1)))

    def angle(e):
        a = np.zeros((n, n, n))
        for j in range(n):  # vertex
            for i in range(n):
                for k in range(n):
                    u, v = e[i] - e[j], e[k] - e[j]
                    if i != j and k != j:
                        a[j, i, k] = u @ v / np.linalg.norm(u) / \
                            np.linalg.norm(v)
        return a

    a, b = fs.reshape(n, -1), ft.reshape(n, -1)
    return wd * np_smooth_l1(dist(a), dist(b)) + \
        wa * np_smooth_l1(angle(a), angle(b))


def test_rkd_value():
    s, t = rand(5, 3, seed=1), rand(5, 2, 2, 2, seed=2)
    assert RKDLoss()(s, t).item() == pytest.approx(np_rkd(npy(s), npy(t)))
    got = RKDLoss(distance_weight=1, angle_weight=0, loss_weight=2)(s, t)
    assert got.item() == pytest.approx(2 * np_rkd(npy(s), npy(t), 1, 0))
    got = RKDLoss(distance_weight=0, angle_weight=1)(s, t)
    assert got.item() == pytest.approx(np_rkd(npy(s), npy(t), 0, 1))


def test_rkd_invariant_to_scale_and_translation():
    s = rand(6, 4, seed=3)
    assert RKDLoss()(s, 3 * s + 1).item() == pytest.approx(0, abs=1e-9)


def test_rkd_errors():
    with pytest.raises(ValueError, match='batch'):
        RKDLoss()(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match='at least 2'):
        RKDLoss()(torch.zeros(1, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match='>= 0'):
        RKDLoss(angle_weight=-1)


# --------------------------------------------------------------------- PKT
def np_pkt(fs, ft, eps=1e-7):
    n = fs.shape[0]

    def prob(e):
        e = e.reshape(n, -1)
        e = e / (np.linalg.norm(e, axis=1, keepdims=True) + eps)
        k = (e @ e.T + 1) / 2
        return k / k.sum(axis=1, keepdims=True)

    ps, pt = prob(fs), prob(ft)
    total = 0.
    for i in range(n):
        for j in range(n):
            total += pt[i, j] * np.log((pt[i, j] + eps) / (ps[i, j] + eps))
    return total / n**2


def test_pkt_value():
    s, t = rand(5, 3, seed=1), rand(5, 8, seed=2)
    assert PKTLoss()(s, t).item() == pytest.approx(np_pkt(npy(s), npy(t)))
    assert PKTLoss(loss_weight=30000)(s, t).item() == pytest.approx(
        30000 * np_pkt(npy(s), npy(t)))


def test_pkt_hand_computed():
    # student: orthogonal rows -> K = [[1, .5], [.5, 1]] -> p = [2/3, 1/3]
    # teacher: equal rows -> K = 1 -> p = [1/2, 1/2]
    s = torch.tensor([[1., 0.], [0., 1.]], dtype=torch.float64)
    t = torch.tensor([[1., 1.], [1., 1.]], dtype=torch.float64)
    kl_row = 0.5 * math.log(0.5 / (2 / 3)) + 0.5 * math.log(0.5 / (1 / 3))
    assert PKTLoss()(s, t).item() == pytest.approx(2 * kl_row / 4, rel=1e-5)
    assert PKTLoss()(t, t).item() == pytest.approx(0, abs=1e-9)


def test_pkt_errors():
    with pytest.raises(ValueError, match='batch'):
        PKTLoss()(torch.zeros(2, 3), torch.zeros(3, 3))
    with pytest.raises(ValueError, match='eps'):
        PKTLoss(eps=0)


# --------------------------------------------------------------------- ICKD
def np_ickd(fs, ft):
    n, c = fs.shape[:2]
    total = 0.
    for i in range(n):
        a, b = fs[i].reshape(c, -1), ft[i].reshape(c, -1)
        gs, gt = a @ a.T, b @ b.T
        gs /= np.linalg.norm(gs, axis=1, keepdims=True)
        gt /= np.linalg.norm(gt, axis=1, keepdims=True)
        total += ((gs - gt)**2).sum()
    return total / (n * c)


def test_ickd_value():
    s, t = rand(3, 4, 2, 2, seed=1), rand(3, 4, 3, 3, seed=2)
    assert ICKDLoss()(s, t).item() == pytest.approx(np_ickd(npy(s), npy(t)))
    assert ICKDLoss(loss_weight=2.5)(s, t).item() == pytest.approx(
        2.5 * np_ickd(npy(s), npy(t)))


def test_ickd_hand_computed():
    # student channels orthogonal -> rownorm Gram I; teacher channels equal
    # -> every entry 1/sqrt2.  ||diff||^2 = 2(1 - 1/sqrt2)^2 + 2 * 1/2.
    s = torch.tensor([[[1., 0.], [0., 1.]]])
    t = torch.tensor([[[1., 1.], [1., 1.]]])
    expected = (2 * (1 - 2**-0.5)**2 + 1) / (1 * 2)
    assert ICKDLoss()(s, t).item() == pytest.approx(expected)


def test_ickd_mismatch_names_connector():
    with pytest.raises(ValueError, match='ConvConnector'):
        ICKDLoss()(torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        ICKDLoss()(torch.zeros(2, 8), torch.zeros(2, 8))


# --------------------------------------------------------------------- DKD
def np_dkd(zs, zt, y, alpha, beta, tau):
    total = []
    for i in range(zs.shape[0]):
        ps, pt = np_softmax(zs[i] / tau), np_softmax(zt[i] / tau)
        bs = np.array([ps[y[i]], 1 - ps[y[i]]])
        bt = np.array([pt[y[i]], 1 - pt[y[i]]])
        tckd = (bt * np.log(bt / bs)).sum()
        rest = [k for k in range(zs.shape[1]) if k != y[i]]
        qs, qt = ps[rest] / ps[rest].sum(), pt[rest] / pt[rest].sum()
        nckd = (qt * np.log(qt / qs)).sum()
        total.append(tau**2 * (alpha * tckd + beta * nckd))
    return np.array(total)


def test_dkd_value_and_reductions():
    s, t = rand(4, 6, seed=1), rand(4, 6, seed=2)
    y = torch.tensor([0, 5, 2, 2])
    ref = np_dkd(npy(s), npy(t), y.numpy(), 1., 8., 4.)
    assert DKDLoss()(s, t, y).item() == pytest.approx(ref.mean())
    assert DKDLoss(reduction='sum')(s, t, y).item() == pytest.approx(
        ref.sum())
    assert np.allclose(npy(DKDLoss(reduction='none')(s, t, y)), ref)
    ref = np_dkd(npy(s), npy(t), y.numpy(), 0.5, 2., 1.)
    got = DKDLoss(alpha=0.5, beta=2., tau=1., loss_weight=3.)(s, t, y)
    assert got.item() == pytest.approx(3 * ref.mean())


def test_dkd_decomposes_kd():
    # KD = TCKD + (1 - p_T[gt]) * NCKD for every sample (paper, Eq. 7)
    s, t = rand(5, 4, seed=3), rand(5, 4, seed=4)
    y = torch.tensor([0, 1, 2, 3, 1])
    tckd = DKDLoss(alpha=1, beta=0, tau=2, reduction='none')(s, t, y)
    nckd = DKDLoss(alpha=0, beta=1, tau=2, reduction='none')(s, t, y)
    p_gt = F.softmax(t / 2, dim=1).gather(1, y[:, None])[:, 0]
    kd = KDLoss(tau=2, reduction='none')(s, t)
    assert torch.allclose(tckd + (1 - p_gt) * nckd, kd)


def test_dkd_extreme_logits_are_finite():
    s = torch.tensor([[200., 0., 0.]])
    t = torch.tensor([[0., 200., 0.]])
    loss = DKDLoss()(s, t, torch.tensor([0]))
    assert torch.isfinite(loss)


def test_dkd_warmup():
    s, t, y = rand(2, 3, seed=5), rand(2, 3, seed=6), torch.tensor([0, 1])
    loss = DKDLoss(warmup_epochs=20)
    full = loss(s, t, y)
    assert loss.warmup_factor == 1.0
    loss.set_epoch(5)
    assert loss(s, t, y).item() == pytest.approx(0.25 * full.item())
    loss.set_epoch(40)
    assert loss(s, t, y).item() == pytest.approx(full.item())
    no_warmup = DKDLoss(warmup_epochs=0)
    no_warmup.set_epoch(1)
    assert no_warmup.warmup_factor == 1.0
    with pytest.raises(ValueError, match='warmup_epochs'):
        DKDLoss(warmup_epochs=-1)


def test_dkd_errors():
    s, t = torch.zeros(2, 3), torch.zeros(2, 3)
    with pytest.raises(ValueError, match='hard labels'):
        DKDLoss()(s, t, torch.zeros(2, 3))  # soft labels
    with pytest.raises(ValueError, match='hard labels'):
        DKDLoss()(s, t, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='num_classes'):
        DKDLoss()(s, torch.zeros(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='tau must be positive'):
        DKDLoss(tau=0)
    with pytest.raises(ValueError, match='reduction'):
        DKDLoss(reduction='mean')


# --------------------------------------------------------------------- DIST
def np_dist(zs, zt, beta, gamma, tau):
    ys = np.stack([np_softmax(z / tau) for z in zs])
    yt = np.stack([np_softmax(z / tau) for z in zt])
    inter = 1 - np.mean(
        [np.corrcoef(ys[i], yt[i])[0, 1] for i in range(len(ys))])
    intra = 1 - np.mean(
        [np.corrcoef(ys[:, k], yt[:, k])[0, 1] for k in range(ys.shape[1])])
    return tau**2 * (beta * inter + gamma * intra)


def test_dist_value():
    s, t = rand(6, 5, seed=1), rand(6, 5, seed=2)
    ref = np_dist(npy(s), npy(t), 1., 1., 1.)
    assert DISTLoss()(s, t).item() == pytest.approx(ref, rel=1e-6)
    ref = np_dist(npy(s), npy(t), 2., 0.5, 4.)
    got = DISTLoss(beta=2., gamma=0.5, tau=4., loss_weight=0.1)(s, t)
    assert got.item() == pytest.approx(0.1 * ref, rel=1e-6)


def test_dist_hand_computed():
    z = rand(4, 3, seed=7)
    assert DISTLoss()(z, z).item() == pytest.approx(0, abs=1e-6)
    # perfectly anti-correlated rows and columns: each term is 1 - (-1) = 2
    s = torch.tensor([[1., 0.], [0., 1.]]) * 50
    assert DISTLoss()(s, s.flip(1)).item() == pytest.approx(4, rel=1e-4)
    assert DISTLoss(beta=1, gamma=0)(s, s.flip(1)).item() == pytest.approx(
        2, rel=1e-4)


def test_dist_errors():
    with pytest.raises(ValueError, match='num_classes'):
        DISTLoss()(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match='tau must be positive'):
        DISTLoss(tau=-1)


# ------------------------------------------------- shared: grads, registry
def _inputs(name):
    """Float32 student / teacher tensors (and extra args) for each loss."""
    logits = (rand(4, 5, seed=1).float(), rand(4, 5, seed=2).float())
    maps = (rand(4, 3, 4, 4, seed=3).float(), rand(4, 3, 4, 4, seed=4).float())
    vecs = (rand(4, 6, seed=5).float(), rand(4, 8, seed=6).float())
    return dict(
        KDLoss=(logits, {}),
        HintLoss=(maps, {}),
        ATLoss=(maps, {}),
        SPLoss=(maps, {}),
        RKDLoss=(vecs, {}),
        PKTLoss=(vecs, {}),
        ICKDLoss=(maps, {}),
        DKDLoss=(logits, dict(gt_labels=torch.tensor([0, 1, 2, 4]))),
        DISTLoss=(logits, {}),
    )[name]


ALL_LOSSES = [
    KDLoss, HintLoss, ATLoss, SPLoss, RKDLoss, PKTLoss, ICKDLoss, DKDLoss,
    DISTLoss
]


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_grad_reaches_student_not_teacher(cls):
    (s, t), extra = _inputs(cls.__name__)
    s = s.clone().requires_grad_()
    t = t.clone().requires_grad_()
    loss = cls()(s, t, **extra)
    assert loss.shape == () and torch.isfinite(loss)
    loss.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_registry_build(cls):
    DISTILL_LOSSES.import_from_location()
    loss = DISTILL_LOSSES.build(dict(type=cls.__name__, loss_weight=2.))
    assert type(loss) is cls and loss.loss_weight == 2.


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_loss_weight_scales_linearly(cls):
    (s, t), extra = _inputs(cls.__name__)
    one = cls()(s, t, **extra)
    assert torch.allclose(cls(loss_weight=0.5)(s, t, **extra), 0.5 * one)


# --------------------------------------------------------------- distiller
def test_distiller_with_feature_losses():
    init_default_scope('mmkd')

    def clf():
        return dict(
            type='ImageClassifier',
            backbone=dict(type='CIFARResNet', depth=8, widths=(8, 16, 32)),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
                      loss=dict(type='CrossEntropyLoss')))

    feats = dict(feats_S='s_feat', feats_T='t_feat')
    model = MODELS.build(
        dict(
            type='SingleTeacherDistiller',
            student=clf(),
            teacher=clf(),
            teacher_ckpt=None,
            taps=dict(s_feat='student.backbone.layer3',
                      t_feat='teacher.backbone.layer3'),
            distill_losses=dict(
                loss_at=dict(type='ATLoss', loss_weight=1000, inputs=feats),
                loss_sp=dict(type='SPLoss', loss_weight=3000, inputs=feats),
                loss_hint=dict(type='HintLoss', loss_weight=100,
                               inputs=feats))))
    model.train()
    inputs = rand(4, 3, 32, 32, seed=8).float()
    samples = [DataSample().set_gt_label(k) for k in (0, 3, 7, 9)]
    losses = model.loss(inputs, samples)
    assert {'loss_at', 'loss_sp', 'loss_hint'} <= set(losses)
    assert any(k.startswith('student.') and 'loss' in k for k in losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.parameters())
