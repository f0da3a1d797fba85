"""Tests of RepDistiller's remaining losses: CC, VID, AB, FSP, NST, KD-SVD
and FT (with its Paraphraser / Translator connectors).

Each loss is checked against an independent, deliberately plain
implementation (numpy, loops) or a hand-computed number.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.connectors import Paraphraser, Translator
from mmkd.models.losses import (ABLoss, CCLoss, FSPLoss, FTLoss, KDSVDLoss,
                                NSTLoss, ParaphraserReconstructionLoss,
                                VIDLoss)
from mmkd.registry import CONNECTORS, DISTILL_LOSSES, MODELS

from conftest import tiny_classifier  # noqa: E402


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def npy(x):
    return x.detach().double().numpy()


def np_pool2(x):
    """2x2 average pooling of a [N, C, H, W] numpy array."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def np_unit(v):
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------- CC
def test_cc_repdistiller_form_loops():
    s, t = rand(5, 4, seed=1), rand(5, 4, seed=2)
    d = np.abs(npy(s) - npy(t))
    ref = sum(sum(d[i, k] * d[i + 1, k] for k in range(4))
              for i in range(4)) / 4
    assert math.isclose(CCLoss()(s, t).item(), ref, rel_tol=1e-12)


def test_cc_gaussian_rbf_form_loops_and_kernel_limit():
    s, t = rand(4, 6, seed=3), rand(4, 6, seed=4)
    gamma = 0.4

    def corr(x, order):
        x = [np_unit(r) for r in npy(x)]
        return np.array([[
            sum(math.exp(-2 * gamma) * (2 * gamma)**p / math.factorial(p) *
                float(a @ b)**p for p in range(order + 1)) for b in x
        ] for a in x])

    ref = ((corr(s, 2) - corr(t, 2))**2).mean()
    loss = CCLoss(mode='gaussian_rbf')(s, t)  # paper: P=2, gamma=0.4
    assert math.isclose(loss.item(), ref, rel_tol=1e-12)
    # a high order recovers the exact Gaussian RBF on normalised rows
    x = [np_unit(r) for r in npy(s)]
    rbf = np.array([[math.exp(-gamma * ((a - b)**2).sum()) for b in x]
                    for a in x])
    high = CCLoss(mode='gaussian_rbf', p_order=30).correlation(s)
    np.testing.assert_allclose(npy(high), rbf, rtol=1e-10)


def test_cc_gradients_and_teacher_detach_option():
    s, t = rand(4, 6, seed=5).requires_grad_(), rand(4, 6, seed=6)
    t.requires_grad_()
    for mode in ('repdistiller', 'gaussian_rbf'):
        s.grad = t.grad = None
        CCLoss(mode=mode, detach_teacher=True)(s, t).backward()
        assert s.grad.abs().sum() > 0 and t.grad is None
        # default: like RepDistiller, a teacher-side embedding trains too
        CCLoss(mode=mode)(s, t).backward()
        assert t.grad is not None and t.grad.abs().sum() > 0


def test_cc_errors():
    with pytest.raises(ValueError, match='LinearConnector'):
        CCLoss()(torch.zeros(4, 8), torch.zeros(4, 16))
    with pytest.raises(ValueError, match='at least 2 samples'):
        CCLoss()(torch.zeros(1, 8), torch.zeros(1, 8))
    with pytest.raises(ValueError, match='mode must be one of'):
        CCLoss(mode='rbf')


# -------------------------------------------------------------------- VID
def test_vid_value_against_numpy():
    torch.manual_seed(0)
    loss = VIDLoss(3, 5, 4).double()
    with torch.no_grad():
        loss.alpha.copy_(rand(4, seed=7))
    s, t = rand(2, 3, 2, 2, seed=8), rand(2, 4, 2, 2, seed=9)
    w1, w2, w3 = (npy(m.weight)[:, :, 0, 0] for m in loss.regressor
                  if isinstance(m, torch.nn.Conv2d))
    var = np.log1p(np.exp(npy(loss.alpha))) + 1e-5
    tn, sn, terms = npy(t), npy(s), []
    for n in range(2):
        for h in range(2):
            for w in range(2):
                x = sn[n, :, h, w]
                mu = w3 @ np.maximum(w2 @ np.maximum(w1 @ x, 0), 0)
                for c in range(4):
                    terms.append(0.5 * (math.log(var[c]) +
                                        (tn[n, c, h, w] - mu[c])**2 / var[c]))
    assert math.isclose(loss(s, t).item(), np.mean(terms), rel_tol=1e-10)


def test_vid_initial_variance_and_pooling():
    loss = VIDLoss(3, 4, 4, init_pred_var=5.0).double()
    torch.testing.assert_close(loss.variance(),
                               torch.full((4, ), 5.0, dtype=torch.float64))
    s, t = rand(2, 3, 2, 2, seed=10), rand(2, 4, 4, 4, seed=11)
    pooled = torch.from_numpy(np_pool2(npy(t)))
    torch.testing.assert_close(loss(s, t), loss(s, pooled))


def test_vid_gradients_reach_student_and_own_parameters():
    loss = VIDLoss(3, 4, 4).double()
    s = rand(2, 3, 4, 4, seed=12).requires_grad_()
    t = rand(2, 4, 4, 4, seed=13).requires_grad_()
    loss(s, t).backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    assert loss.alpha.grad.abs().sum() > 0
    assert all(p.grad is not None for p in loss.regressor.parameters())


def test_vid_errors():
    loss = VIDLoss(3, 4, 4)
    with pytest.raises(ValueError, match='set in_channels=5'):
        loss(torch.zeros(2, 5, 4, 4), torch.zeros(2, 4, 4, 4))
    with pytest.raises(ValueError, match='set out_channels=6'):
        loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 6, 4, 4))
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        loss(torch.zeros(2, 3), torch.zeros(2, 4))


# --------------------------------------------------------------------- AB
def test_ab_hand_computed():
    # m = 1; (s, t): (0.5, +) -> 0.25, (-2, -) -> 0, (2, +) -> 0,
    # (-0.5, -) -> 0.25, (0, 0: inactive) -> 1; total 1.5 for N = 1
    s = torch.tensor([0.5, -2., 2., -0.5, 0.]).view(1, 5, 1, 1)
    t = torch.tensor([1., -1., 1., -1., 0.]).view(1, 5, 1, 1)
    assert math.isclose(ABLoss()(s, t).item(), 1.5)


def test_ab_loops_and_reductions():
    s, t = rand(2, 3, 2, 2, seed=14), rand(2, 3, 2, 2, seed=15)
    total = 0.
    for a, b in zip(npy(s).ravel(), npy(t).ravel()):
        if b > 0 and a <= 1:
            total += (a - 1)**2
        elif b <= 0 and a > -1:
            total += (a + 1)**2
    assert math.isclose(ABLoss()(s, t).item(), total / 2, rel_tol=1e-12)
    assert math.isclose(ABLoss(reduction='sum')(s, t).item(), total,
                        rel_tol=1e-12)
    assert math.isclose(ABLoss(reduction='mean')(s, t).item(), total / 24,
                        rel_tol=1e-12)
    assert ABLoss(reduction='none')(s, t).shape == s.shape
    # margin 0: only wrong-sided responses are penalised
    assert ABLoss(margin=0)(t, t).item() == 0


def test_ab_errors():
    with pytest.raises(ValueError, match='ConvConnector'):
        ABLoss()(torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match='reduction must be one of'):
        ABLoss(reduction='avg')


# -------------------------------------------------------------------- FSP
def np_fsp(a, b):
    n, ca, h, w = a.shape
    g = np.zeros((n, ca, b.shape[1]))
    for k in range(n):
        for i in range(ca):
            for j in range(b.shape[1]):
                g[k, i, j] = sum(a[k, i, y, x] * b[k, j, y, x]
                                 for y in range(h) for x in range(w)) / (h * w)
    return g


def test_fsp_loops_with_pooling():
    s_a, s_b = rand(2, 2, 4, 4, seed=16), rand(2, 3, 2, 2, seed=17)
    t_a, t_b = rand(2, 2, 2, 2, seed=18), rand(2, 3, 2, 2, seed=19)
    g_s = np_fsp(np_pool2(npy(s_a)), npy(s_b))  # larger map pooled
    g_t = np_fsp(npy(t_a), npy(t_b))
    ref = ((g_s - g_t)**2).mean()
    loss = FSPLoss(loss_weight=50)(s_a, s_b, t_a, t_b)
    assert math.isclose(loss.item(), 50 * ref, rel_tol=1e-10)


def test_fsp_hand_computed():
    # one channel each, 1x2 maps: G_S = (1*2 + 3*4) / 2 = 7, G_T = 0
    s_a = torch.tensor([1., 3.]).view(1, 1, 1, 2)
    s_b = torch.tensor([2., 4.]).view(1, 1, 1, 2)
    zero = torch.zeros(1, 1, 1, 2)
    assert FSPLoss()(s_a, s_b, zero, zero).item() == 49.


def test_fsp_errors():
    x = torch.zeros(2, 4, 4, 4)
    with pytest.raises(ValueError, match='feats_S_b has 8 channels but '
                       'feats_T_b has 4'):
        FSPLoss()(x, torch.zeros(2, 8, 4, 4), x, x)
    with pytest.raises(ValueError, match='feats_T_a must be a'):
        FSPLoss()(x, x, torch.zeros(2, 4), x)
    with pytest.raises(ValueError, match='batch sizes'):
        FSPLoss()(x, x, torch.zeros(3, 4, 4, 4), x)


# -------------------------------------------------------------------- NST
def test_nst_loops_with_pooling():
    s, t = rand(2, 2, 4, 4, seed=20), rand(2, 3, 2, 2, seed=21)
    sn, tn = np_pool2(npy(s)), npy(t)
    total = 0.
    for n in range(2):
        fs = [np_unit(c.ravel()) for c in sn[n]]
        ft = [np_unit(c.ravel()) for c in tn[n]]

        def k(xs, ys):
            return np.mean([float(x @ y)**2 for x in xs for y in ys])

        total += k(ft, ft) + k(fs, fs) - 2 * k(fs, ft)
    loss = NSTLoss(loss_weight=50)(s, t)
    assert math.isclose(loss.item(), 50 * total / 2, rel_tol=1e-10)


def test_nst_hand_computed():
    # one channel each: 1 + 1 - 2 cos^2 with cos^2 = 1/2
    s = torch.tensor([1., 0.]).view(1, 1, 1, 2)
    t = torch.tensor([1., 1.]).view(1, 1, 1, 2)
    assert math.isclose(NSTLoss()(s, t).item(), 1.0, rel_tol=1e-6)
    assert NSTLoss()(t, 3 * t).abs().item() < 1e-6


def test_nst_errors():
    with pytest.raises(ValueError, match='pooled vector'):
        NSTLoss()(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match='batch'):
        NSTLoss()(torch.zeros(2, 4, 2, 2), torch.zeros(3, 4, 2, 2))


# ------------------------------------------------------------------ KDSVD
def loop_kdsvd(s_a, s_b, t_a, t_b, k, mode):
    """Plain re-implementation: torch.svd (the routine the reference code
    calls) for the decomposition, python loops for the rest."""

    def top(feat, n):
        b, c, h, w = feat.shape
        x = (feat.reshape(b, c * h, w) if mode == 'mdistiller' else
             feat.reshape(b, c, h * w).transpose(1, 2))
        _, sv, v = torch.svd(x)
        sv, v = sv.numpy()[:, :n], v.numpy()[:, :, :n]
        return sv / np.linalg.norm(sv, axis=1, keepdims=True), v

    def layer(fs, ft):
        s_t, v_t = top(ft, k)
        _, v_s = top(fs, k + 3)
        out_s = np.zeros_like(v_t)
        for n in range(v_t.shape[0]):
            for j in range(k):
                cos = [float(v_s[n, :, i] @ v_t[n, :, j])
                       for i in range(v_s.shape[2])]
                best = int(np.argmax(np.abs(cos)))
                out_s[n, :, j] = np.sign(cos[best]) * v_s[n, :, best]
        scale = s_t[:, None, :]
        return out_s * scale, v_t * scale

    (sa, ta), (sb, tb) = layer(s_a, t_a), layer(s_b, t_b)
    total = 0.
    for n in range(sa.shape[0]):
        for p in range(sb.shape[1]):
            for q in range(sa.shape[1]):
                for j in range(k):
                    r_s = math.exp(-(sb[n, p, j] - sa[n, q, j])**2 / 8)
                    r_t = math.exp(-(tb[n, p, j] - ta[n, q, j])**2 / 8)
                    total += (r_s - r_t)**2
    return total / sa.shape[0]


@pytest.mark.parametrize('mode,k', [('mdistiller', 1), ('paper', 2)])
def test_kdsvd_loops(mode, k):
    if mode == 'mdistiller':  # equal widths, channels differ
        shapes_s, shapes_t = [(2, 2, 6, 6), (2, 3, 4, 5)], [(2, 4, 6, 6),
                                                          (2, 5, 3, 5)]
    else:  # equal channels, spatial sizes differ
        shapes_s, shapes_t = [(2, 6, 3, 3), (2, 7, 2, 4)], [(2, 6, 4, 4),
                                                          (2, 7, 3, 3)]
    s_a, s_b = (rand(*sh, seed=30 + i) for i, sh in enumerate(shapes_s))
    t_a, t_b = (rand(*sh, seed=40 + i) for i, sh in enumerate(shapes_t))
    ref = loop_kdsvd(s_a, s_b, t_a, t_b, k, mode)
    loss = KDSVDLoss(k=k, mode=mode)(s_a, s_b, t_a, t_b)
    assert math.isclose(loss.item(), ref, rel_tol=1e-9)


def test_kdsvd_zero_for_copy_and_sign_invariant():
    s_a, s_b = rand(2, 3, 4, 4, seed=50), rand(2, 5, 2, 4, seed=51)
    t_a, t_b = rand(2, 6, 4, 4, seed=52), rand(2, 8, 2, 4, seed=53)
    loss = KDSVDLoss(k=2)
    # the student's top vectors contain the teacher's: aligned exactly
    assert loss(t_a, t_b, t_a, t_b).item() < 1e-12
    # sign alignment: flipping the student features changes nothing
    torch.testing.assert_close(loss(-s_a, -s_b, t_a, t_b),
                               loss(s_a, s_b, t_a, t_b))


def test_kdsvd_errors():
    x = torch.zeros(2, 4, 4, 4)
    with pytest.raises(ValueError, match=r"differ in width \(W\): 4 vs 8"):
        KDSVDLoss()(x, x, torch.zeros(2, 4, 8, 8), x)
    with pytest.raises(ValueError, match=r'differ in channels \(C\): 4 vs 6'):
        KDSVDLoss(mode='paper')(x, x, x, torch.zeros(2, 6, 4, 4))
    with pytest.raises(ValueError, match='pooled vector'):
        KDSVDLoss()(torch.zeros(2, 4), x, x, x)


# --------------------------------------------------------------------- FT
def test_ft_repdistiller_form_numpy():
    s, t = rand(2, 3, 4, 4, seed=60), rand(2, 3, 2, 2, seed=61)
    sn, tn = np_pool2(npy(s)), npy(t)
    diffs = []
    for n in range(2):
        a = np_unit((sn[n]**2).mean(axis=0).ravel())
        b = np_unit((tn[n]**2).mean(axis=0).ravel())
        diffs.extend(np.abs(a - b))
    loss = FTLoss(loss_weight=200)(s, t)
    assert math.isclose(loss.item(), 200 * np.mean(diffs), rel_tol=1e-10)


def test_ft_paper_form_numpy():
    s, t = rand(2, 3, 2, 2, seed=62), rand(2, 3, 2, 2, seed=63)
    ref = np.mean([
        np.abs(np_unit(a.ravel()) - np_unit(b.ravel())).sum()
        for a, b in zip(npy(s), npy(t))
    ])
    assert math.isclose(FTLoss(mode='paper')(s, t).item(), ref, rel_tol=1e-10)


def test_ft_errors():
    with pytest.raises(ValueError, match='Translator out_channels'):
        FTLoss()(torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match="output='reconstruction'"):
        ParaphraserReconstructionLoss()(
            torch.zeros(2, 8, 4, 4), torch.zeros(2, 16, 4, 4))
    with pytest.raises(ValueError, match='set in_channels=8'):
        Paraphraser(16)(torch.zeros(2, 8, 4, 4))
    with pytest.raises(ValueError, match='set in_channels=8'):
        Translator(16, 8)(torch.zeros(2, 8, 4, 4))


def test_paraphraser_shapes_and_reconstruction_decreases():
    torch.manual_seed(0)
    para = Paraphraser(8, output='reconstruction')
    x = rand(2, 8, 4, 4, seed=64).float().relu()  # a post-ReLU feature
    assert para.factor_channels == 4
    assert para.encode(x).shape == (2, 4, 4, 4)
    assert para(x).shape == x.shape
    assert Paraphraser(8)(x).shape == (2, 4, 4, 4)  # output='factor'
    criterion = ParaphraserReconstructionLoss()
    torch.testing.assert_close(criterion(para(x), x),
                               F.mse_loss(para(x), x))
    optim = torch.optim.SGD(para.parameters(), lr=0.2, momentum=0.9)
    values = []
    for _ in range(10):
        loss = criterion(para(x), x)
        values.append(loss.item())
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert all(b < a for a, b in zip(values, values[1:]))
    assert values[-1] < 0.9 * values[0]


def test_frozen_paraphraser_loads_ckpt_and_gets_no_grad(tmp_path):
    torch.manual_seed(0)
    trained = Paraphraser(8, output='reconstruction')
    # a stage-1 distiller checkpoint: the connector's keys under a prefix,
    # beside a translator whose keys also start with 'encoder.'
    state = {f'connectors.paraphraser.{k}': v
             for k, v in trained.state_dict().items()}
    state.update({f'connectors.other.{k}': v
                  for k, v in Translator(4, 4).state_dict().items()})
    path = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)

    para = Paraphraser(8, frozen=True, ckpt=path)
    for key, value in trained.state_dict().items():
        assert torch.equal(para.state_dict()[key], value), key
    para.train()
    assert not para.training
    assert not any(p.requires_grad for p in para.parameters())

    translator = Translator(6, 4)
    s = rand(2, 6, 4, 4, seed=65).float().requires_grad_()
    t = rand(2, 8, 4, 4, seed=66).float()
    FTLoss(loss_weight=200)(translator(s), para(t)).backward()
    assert s.grad.abs().sum() > 0
    assert all(p.grad is not None for p in translator.parameters())
    assert all(p.grad is None for p in para.parameters())

    # two paraphrasers in one checkpoint: the prefix must be named
    state.update({f'connectors.second.{k}': v
                  for k, v in trained.state_dict().items()})
    torch.save(state, path)
    with pytest.raises(KeyError, match='set ckpt_prefix'):
        Paraphraser(8, ckpt=path)
    Paraphraser(8, ckpt=path, ckpt_prefix='connectors.second.')
    with pytest.raises(RuntimeError, match='set in_channels, rate'):
        Paraphraser(8, rate=0.25, ckpt=path,
                    ckpt_prefix='connectors.second.')


# ------------------------------------------------- shared: grads, registry
def _case(name):
    """(loss kwargs, student inputs, teacher inputs) for each loss."""
    maps = [rand(3, 4, 4, 4, seed=70 + i) for i in range(4)]
    vecs = [rand(4, 6, seed=80 + i) for i in range(2)]
    pair = dict(feats_S_a=maps[0], feats_S_b=rand(3, 6, 2, 4, seed=90),
                feats_T_a=maps[2], feats_T_b=rand(3, 6, 2, 4, seed=91))
    return dict(
        CCLoss=(dict(detach_teacher=True), dict(feats_S=vecs[0]),
                dict(feats_T=vecs[1])),
        VIDLoss=(dict(in_channels=4, mid_channels=5, out_channels=4),
                 dict(feats_S=maps[0]), dict(feats_T=maps[1])),
        ABLoss=({}, dict(feats_S=maps[0]), dict(feats_T=maps[1])),
        FSPLoss=({}, {k: v for k, v in pair.items() if '_S_' in k},
                 {k: v for k, v in pair.items() if '_T_' in k}),
        NSTLoss=({}, dict(feats_S=maps[0]), dict(feats_T=maps[1])),
        KDSVDLoss=({}, {k: v for k, v in pair.items() if '_S_' in k},
                   {k: v for k, v in pair.items() if '_T_' in k}),
        FTLoss=({}, dict(feats_S=maps[0]), dict(feats_T=maps[1])),
        ParaphraserReconstructionLoss=({}, dict(recon=maps[0]),
                                       dict(target=maps[1])),
    )[name]


ALL_LOSSES = [
    CCLoss, VIDLoss, ABLoss, FSPLoss, NSTLoss, KDSVDLoss, FTLoss,
    ParaphraserReconstructionLoss
]


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_grad_reaches_student_not_teacher(cls):
    kwargs, student, teacher = _case(cls.__name__)
    student = {k: v.clone().requires_grad_() for k, v in student.items()}
    teacher = {k: v.clone().requires_grad_() for k, v in teacher.items()}
    loss = cls(**kwargs).double()(**student, **teacher)
    assert loss.shape == () and torch.isfinite(loss)
    loss.backward()
    for name, x in student.items():
        assert x.grad is not None and x.grad.abs().sum() > 0, name
    assert all(x.grad is None for x in teacher.values())


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_loss_weight_scales_linearly(cls):
    kwargs, student, teacher = _case(cls.__name__)
    torch.manual_seed(0)
    one = cls(**kwargs).double()
    torch.manual_seed(0)
    half = cls(loss_weight=0.5, **kwargs).double()
    torch.testing.assert_close(half(**student, **teacher),
                               0.5 * one(**student, **teacher))


@pytest.mark.parametrize('cls', ALL_LOSSES, ids=lambda c: c.__name__)
def test_registry_build(cls):
    DISTILL_LOSSES.import_from_location()
    kwargs = _case(cls.__name__)[0]
    loss = DISTILL_LOSSES.build(dict(type=cls.__name__, loss_weight=2.,
                                     **kwargs))
    assert type(loss) is cls and loss.loss_weight == 2.


def test_connector_registry_build():
    CONNECTORS.import_from_location()
    para = CONNECTORS.build(dict(type='Paraphraser', in_channels=8,
                                 output='reconstruction'))
    assert type(para) is Paraphraser and para.output == 'reconstruction'
    trans = CONNECTORS.build(dict(type='Translator', in_channels=4,
                                  out_channels=4))
    assert type(trans) is Translator


# --------------------------------------------------------------- distiller
def _batch(n=4):
    inputs = rand(n, 3, 32, 32, seed=99).float()
    samples = [DataSample().set_gt_label(k) for k in range(n)]
    return inputs, samples


def test_distiller_with_fsp_and_nst():
    taps = {f'{who[0]}{i}': f'{who}.backbone.layer{i}'
            for who in ('student', 'teacher') for i in (2, 3)}
    model = MODELS.build(
        dict(
            type='SingleTeacherDistiller',
            student=tiny_classifier(),
            teacher=tiny_classifier(depth=14),
            teacher_ckpt=None,
            taps=taps,
            distill_losses=dict(
                loss_fsp=dict(
                    type='FSPLoss', loss_weight=50,
                    inputs=dict(feats_S_a='s2', feats_S_b='s3',
                                feats_T_a='t2', feats_T_b='t3')),
                loss_nst2=dict(type='NSTLoss', loss_weight=50,
                               inputs=dict(feats_S='s2', feats_T='t2')),
                loss_nst3=dict(type='NSTLoss', loss_weight=50,
                               inputs=dict(feats_S='s3', feats_T='t3')))))
    model.train()
    losses = model.loss(*_batch())
    assert {'student.loss', 'loss_fsp', 'loss_nst2', 'loss_nst3'} <= set(
        losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and losses['loss_fsp'] > 0
    total.backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.student.backbone.layer2[0].conv1.weight.grad.abs().sum() > 0


def test_distiller_ft_two_stages(tmp_path):
    """Stage 1 trains the paraphraser on the teacher feature; stage 2 loads
    it frozen from the stage-1 state dict and trains the translator."""
    stage1 = MODELS.build(
        dict(
            type='SingleTeacherDistiller',
            student=tiny_classifier(),
            teacher=tiny_classifier(),
            taps=dict(t_feat='teacher.backbone.layer3'),
            connectors=dict(paraphraser=dict(
                type='Paraphraser', input='t_feat', in_channels=32,
                output='reconstruction')),
            distill_losses=dict(loss_recon=dict(
                type='ParaphraserReconstructionLoss',
                inputs=dict(recon='paraphraser', target='t_feat')))))
    stage1.train()
    stage1.loss(*_batch())['loss_recon'].backward()
    assert all(p.grad is not None
               for p in stage1.connectors.paraphraser.parameters())
    path = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict=stage1.state_dict()), path)

    stage2 = MODELS.build(
        dict(
            type='SingleTeacherDistiller',
            student=tiny_classifier(),
            teacher=tiny_classifier(),
            taps=dict(s_feat='student.backbone.layer3',
                      t_feat='teacher.backbone.layer3'),
            connectors=dict(
                factor_t=dict(type='Paraphraser', input='t_feat',
                              in_channels=32, frozen=True, ckpt=path),
                factor_s=dict(type='Translator', input='s_feat',
                              in_channels=32, out_channels=16)),
            distill_losses=dict(loss_ft=dict(
                type='FTLoss', loss_weight=200,
                inputs=dict(feats_S='factor_s', feats_T='factor_t')))))
    stage2.init_weights()
    stage2.train()
    para = stage2.connectors.factor_t
    assert not para.training
    for key, value in stage1.connectors.paraphraser.state_dict().items():
        assert torch.equal(para.state_dict()[key], value), key
    losses = stage2.loss(*_batch())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in para.parameters())
    assert all(p.grad is not None
               for p in stage2.connectors.factor_s.parameters())
