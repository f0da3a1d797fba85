"""Zero-cost proxies against hand computations on tiny nets."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.models.algorithms import build_classifier
from mmkd.registry import PROXIES
from mmkd.search.proxies import count_flops, forward_parts

from conftest import tiny_classifier
from test_search import _toy


@pytest.fixture(autouse=True)
def toy_backbone():
    _toy.register()
    yield
    _toy.unregister()


def _batch(n=4, size=8, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, 3, size, size, generator=g),
            torch.randint(0, classes, (n, ), generator=g))


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    return build_classifier(cfg, 'test')


def _fc_grad(model, x, y):
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x, mode='tensor'), y).backward()
    return model.head.fc.weight.grad.clone()


def _hand_ms(g_s, g_t):
    """Loops over classes and rows, as in the formula."""
    k, c = g_s.shape
    total = 0.0
    for i in range(k):
        for e_s_row, e_t_row in zip(torch.outer(g_s[i], g_s[i]),
                                    torch.outer(g_t[i], g_t[i])):
            a = e_s_row / max(e_s_row.norm(), 1e-12)
            b = e_t_row / max(e_t_row.norm(), 1e-12)
            total += float(((a - b)**2).sum())
    return total / (c * k)


def _hand_mr(a_s, a_t):
    n = a_s.shape[0]
    a_s, a_t = a_s.reshape(n, -1), a_t.reshape(n, -1)
    total = 0.0
    for i in range(n):
        gs = torch.stack([a_s[i] @ a_s[j] for j in range(n)])
        gt = torch.stack([a_t[i] @ a_t[j] for j in range(n)])
        total += float(((gs / gs.norm() - gt / gt.norm())**2).sum())
    return total / (n * n)


def test_diswot_matches_hand_computation_and_caches_the_teacher():
    x, y = _batch()
    teacher = _build(_toy.toy_classifier(c1=6, c2=4), seed=1)
    student = _build(_toy.toy_classifier(c1=3, c2=4), seed=2)
    g_t = _fc_grad(_build(_toy.toy_classifier(c1=6, c2=4), seed=1), x, y)
    g_s = _fc_grad(_build(_toy.toy_classifier(c1=3, c2=4), seed=2), x, y)
    with torch.no_grad():
        a_t = teacher.backbone(x)[-1]
        a_s = student.backbone(x)[-1]
    ms, mr = _hand_ms(g_s, g_t), _hand_mr(a_s, a_t)

    proxy = PROXIES.build(dict(type='DisWOT', init=None))
    proxy.prepare(teacher, x, y)
    d = proxy.distances(student, x, y)
    assert d['M_s'] == pytest.approx(ms, rel=1e-5)
    assert d['M_r'] == pytest.approx(mr, rel=1e-5)
    assert proxy(student, x, y) == pytest.approx(-(ms + mr), rel=1e-5)
    # teacher untouched, computed once, no gradient accumulation
    assert all(p.grad is None for p in teacher.parameters())
    assert proxy.teacher_passes == 1
    assert proxy(student, x, y) == pytest.approx(-(ms + mr), rel=1e-5)
    assert torch.equal(proxy._t_grad, g_t)

    ms_only = PROXIES.build(dict(type='DisWOTMs', init=None))
    mr_only = PROXIES.build(dict(type='DisWOTMr', init=None))
    for p in (ms_only, mr_only):
        p.prepare(teacher, x, y)
    assert ms_only(student, x, y) == pytest.approx(-ms, rel=1e-5)
    assert mr_only(student, x, y) == pytest.approx(-mr, rel=1e-5)


def test_diswot_weight_instead_of_gradient_and_gaussian_init():
    x, y = _batch()
    teacher = _build(_toy.toy_classifier(), seed=1)
    student = _build(_toy.toy_classifier(), seed=2)
    proxy = PROXIES.build(dict(type='DisWOTMs', init=None, use_grad=False))
    proxy.prepare(teacher, x, y)
    expected = _hand_ms(student.head.fc.weight.detach(),
                        teacher.head.fc.weight.detach())
    assert -proxy(student, x, y) == pytest.approx(expected, rel=1e-5)

    proxy = PROXIES.build(dict(type='DisWOT'))  # init='normal'
    proxy.prepare(teacher, x, y)
    m5, m6 = (_build(_toy.toy_classifier(), seed=s) for s in (5, 6))
    torch.manual_seed(3)
    a = proxy(m5, x, y)
    torch.manual_seed(3)
    b = proxy(m6, x, y)
    assert a == b  # the re-initialisation overrides the build's weights
    student = _build(_toy.toy_classifier())
    torch.manual_seed(0)
    proxy.evaluate(student, x, y, copy_model=False)  # score it in place
    w = student.backbone.conv1.weight
    assert abs(float(w.detach().std()) - 1.0) < 0.5  # N(0, 1), not Kaiming


def test_diswot_errors():
    x, y = _batch()
    teacher = _build(_toy.toy_classifier(c2=4))
    proxy = PROXIES.build(dict(type='DisWOT', init=None))
    proxy.prepare(teacher, x, y)
    with pytest.raises(ValueError, match='C_T=4 and candidate C_S=6'):
        proxy(_build(_toy.toy_classifier(c2=6)), x, y)
    with pytest.raises(ValueError, match='5 classes and the candidate 3'):
        proxy(_build(_toy.toy_classifier(num_classes=3)), x, y)
    # the documented projection: average-pool channels to min(C_T, C_S)
    pooled = PROXIES.build(
        dict(type='DisWOTMs', init=None, channel_mismatch='adaptive_avg_pool'))
    pooled.prepare(teacher, x, y)
    student = _build(_toy.toy_classifier(c2=8))
    g_s = _fc_grad(_build(_toy.toy_classifier(c2=8)), x, y)
    g_t = _fc_grad(_build(_toy.toy_classifier(c2=4)), x, y)
    g_s = (g_s[:, 0::2] + g_s[:, 1::2]) / 2
    assert -pooled(student, x, y) == pytest.approx(_hand_ms(g_s, g_t),
                                                   rel=1e-5)
    # a batch too small, a teacher without a linear classifier
    with pytest.raises(ValueError, match='at least 2 samples'):
        proxy.prepare(teacher, x[:1], y[:1])
    no_fc = _build(_toy.toy_classifier())
    no_fc.head.fc = nn.Identity()
    with pytest.raises(TypeError, match='head.fc'):
        PROXIES.build(dict(type='DisWOT')).prepare(no_fc, x, y)
    with pytest.raises(RuntimeError, match='prepare'):
        PROXIES.build(dict(type='DisWOT'))(teacher, x, y)


def _conv_linear(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d,
                                                         nn.Linear))]


def test_grad_norm_and_snip():
    x, y = _batch()
    model = _build(tiny_classifier(widths=(4, 4, 8), num_classes=5))
    ref = _build(tiny_classifier(widths=(4, 4, 8), num_classes=5))
    ref.train()
    F.cross_entropy(ref(x, mode='tensor'), y).backward()
    layers = _conv_linear(ref)
    grad_norm = sum(float(m.weight.grad.norm()) for m in layers)
    snip = sum(float((m.weight.detach() * m.weight.grad).abs().sum())
               for m in layers)
    assert PROXIES.build(dict(type='GradNorm'))(model, x, y) == \
        pytest.approx(grad_norm, rel=1e-5)
    assert PROXIES.build(dict(type='SNIP'))(model, x, y) == pytest.approx(
        snip, rel=1e-5)


def test_synflow_is_layers_times_output_on_a_bias_free_chain():
    """Without biases, norms or skips, all-positive weights make the net
    linear and 1-homogeneous in each layer's weights, so by Euler's theorem
    ``sum |W * dR/dW| = R`` per layer and synflow = (#layers) * R."""
    model = _build(_toy.toy_classifier())
    model.head.fc.bias.data.zero_()
    x, y = _batch()
    score = PROXIES.build(dict(type='SynFlow'))(model, x, y)
    net = _build(_toy.toy_classifier())
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
        net.head.fc.bias.zero_()
        r = float(net(torch.ones(1, 3, 8, 8), mode='tensor').sum())
    assert score == pytest.approx(3 * r, rel=1e-6)
    assert model.head.fc.weight.min() < 0  # the model itself is untouched


def test_nwot_kernel_is_units_minus_hamming_distance():
    x, y = _batch(n=5)
    model = _build(_toy.toy_classifier())
    with torch.no_grad():
        h1 = model.backbone.relu1(model.backbone.conv1(x))
        h2 = model.backbone.relu2(model.backbone.conv2(h1))
    codes = torch.cat([h1.reshape(5, -1), h2.reshape(5, -1)], 1) > 0
    units = codes.shape[1]
    k = torch.tensor([[units - int((codes[i] != codes[j]).sum())
                       for j in range(5)] for i in range(5)],
                     dtype=torch.float64)
    expected = math.log(abs(float(torch.det(k))))
    assert PROXIES.build(dict(type='NWOT'))(model, x, y) == pytest.approx(
        expected, rel=1e-6)


def test_jacob_cov():
    x, y = _batch(n=4)
    model = _build(_toy.toy_classifier())
    model.train()
    xs = x.clone().requires_grad_(True)
    model(xs, mode='tensor').sum().backward()
    j = xs.grad.reshape(4, -1).double().numpy()
    import numpy as np
    v = np.linalg.eigvalsh(np.corrcoef(j))
    expected = -np.sum(np.log(v + 1e-5) + 1 / (v + 1e-5))
    assert PROXIES.build(dict(type='JacobCov'))(model, x, y) == \
        pytest.approx(expected, rel=1e-6)


def test_params_and_flops():
    x, y = _batch()
    model = _build(_toy.toy_classifier(c1=4, c2=6, num_classes=5))
    params = 3 * 4 * 9 + 4 * 6 * 9 + 6 * 5 + 5
    assert PROXIES.build(dict(type='Params'))(model, x, y) == params
    # FlopAnalyzer: one multiply-add per conv/linear MAC, plus the pooled
    # elements of global average pooling
    flops = 8 * 8 * (4 * 27 + 6 * 36) + 6 * 8 * 8 + 6 * 5
    assert PROXIES.build(dict(type='FLOPs'))(model, x, y) == flops
    assert count_flops(model, (3, 8, 8)) == flops


def test_distill_loss_proxy_on_random_networks():
    x, y = _batch()
    teacher = _build(_toy.toy_classifier(c2=6), seed=1)
    student = _build(_toy.toy_classifier(), seed=2)
    calls = []
    teacher.backbone.register_forward_hook(lambda *a: calls.append(1))
    proxy = PROXIES.build(dict(type='DistillLossProxy', init=None,
                               loss=dict(type='KDLoss', tau=4)))
    proxy.prepare(teacher, x, y)
    with torch.no_grad():
        t = teacher(x, mode='tensor')
        s = student(x, mode='tensor')
    kd = PROXIES.build(dict(type='DistillLossProxy', init=None,
                            loss=dict(type='KDLoss', tau=4))).loss
    calls.clear()
    assert proxy(student, x, y) == pytest.approx(-float(kd(s, t)), rel=1e-5)
    proxy(student, x, y)
    assert not calls  # the teacher's tensors are cached

    sp = PROXIES.build(dict(type='DistillLossProxy', init=None,
                            loss=dict(type='SPLoss'),
                            inputs=dict(feats_S='s_feat', feats_T='t_feat')))
    sp.prepare(teacher, x, y)
    with torch.no_grad():
        fs = forward_parts(student, x)[0]
        ft = forward_parts(teacher, x)[0]
    assert sp(student, x, y) == pytest.approx(-float(sp.loss(fs, ft)),
                                              rel=1e-5)
    with pytest.raises(KeyError, match='not a registered distill loss'):
        PROXIES.build(dict(type='DistillLossProxy', loss=dict(type='KDD')))
    with pytest.raises(ValueError, match='has no argument'):
        PROXIES.build(dict(type='DistillLossProxy', loss=dict(type='KDLoss'),
                           inputs=dict(x='s_logits')))


def test_grasp_against_a_finite_difference_hessian_product():
    x, y = _batch()
    model = _build(_toy.toy_classifier()).double()
    score = PROXIES.build(dict(type='GraSP'))(model, x.double(), y)
    weights = [m.weight for m in _conv_linear(model)]

    def grads():
        loss = F.cross_entropy(model(x.double(), mode='tensor'), y)
        return torch.autograd.grad(loss, weights)

    g = grads()
    eps = 1e-5
    with torch.no_grad():
        for w, gi in zip(weights, g):
            w.add_(eps * gi)
    plus = grads()
    with torch.no_grad():
        for w, gi in zip(weights, g):
            w.sub_(2 * eps * gi)
    minus = grads()
    with torch.no_grad():
        for w, gi in zip(weights, g):
            w.add_(eps * gi)
    hg = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
    expected = sum(float((-w.detach() * h).sum()) for w, h in zip(weights, hg))
    assert score == pytest.approx(expected, rel=1e-4)


def test_fisher_by_hand():
    x, y = _batch()
    model = _build(_toy.toy_classifier())
    score = PROXIES.build(dict(type='Fisher'))(model, x, y)
    bb = model.backbone
    a1 = bb.conv1(x)
    a2 = bb.conv2(bb.relu1(a1))
    a3 = model.head.fc(bb.relu2(a2).mean((2, 3)))
    loss = F.cross_entropy(a3, y)
    g1, g2, g3 = torch.autograd.grad(loss, [a1, a2, a3])
    expected = 0.0
    for a, g in ((a1, g1), (a2, g2)):
        for c in range(a.shape[1]):
            per_sample = [float((a[n, c] * g[n, c]).sum().detach())
                          for n in range(a.shape[0])]
            expected += 0.5 * sum(v * v for v in per_sample) / len(per_sample)
    for k in range(a3.shape[1]):
        expected += 0.5 * float((a3[:, k] * g3[:, k]).pow(2).mean().detach())
    assert score == pytest.approx(expected, rel=1e-5)


def test_zen_score_by_hand():
    x, y = _batch()
    # no batch norm: the log of the mean output change only
    model = _build(_toy.toy_classifier())
    torch.manual_seed(7)
    score = PROXIES.build(dict(type='ZenScore', init=None))(model, x, y)
    torch.manual_seed(7)
    x0, eps = torch.randn_like(x), torch.randn_like(x)
    with torch.no_grad():
        d = model.backbone(x0)[0] - model.backbone(x0 + 0.01 * eps)[0]
    per_sample = [float(d[n].pow(2).sum().sqrt()) for n in range(4)]
    assert score == pytest.approx(math.log(sum(per_sample) / 4), rel=1e-5)

    # with batch norms: + sum_i log sqrt(mean_j var_ij) of the BN inputs
    model = _build(tiny_classifier(widths=(4, 4, 8), num_classes=5))
    torch.manual_seed(7)
    score = PROXIES.build(dict(type='ZenScore', init=None))(model, x, y)
    bn_inputs = []
    handles = [m.register_forward_hook(lambda m, a, o: bn_inputs.append(a[0]))
               for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    torch.manual_seed(7)
    x0, eps = torch.randn_like(x), torch.randn_like(x)
    with torch.no_grad():
        f1 = model.backbone(x0)[0]
        for h in handles:
            h.remove()
        d = f1 - model.backbone(x0 + 0.01 * eps)[0]
    delta = sum(float(d[n].pow(2).sum().sqrt()) for n in range(4)) / 4
    bn = 0.0
    for a in bn_inputs:
        per_channel = [float(a[:, c].var(unbiased=False))
                       for c in range(a.shape[1])]
        bn += 0.5 * math.log(sum(per_channel) / len(per_channel))
    assert len(bn_inputs) == 9  # stem, 3 blocks x 2, 2 projections
    assert score == pytest.approx(math.log(delta) + bn, rel=1e-5)


@pytest.mark.parametrize('cfg', [
    dict(type='DisWOT'), dict(type='DisWOTMs'), dict(type='DisWOTMr'),
    dict(type='DistillLossProxy', init='normal',
         loss=dict(type='KDLoss', tau=4)),
    dict(type='GradNorm', init='normal'), dict(type='SNIP', init='normal'),
    dict(type='GraSP', init='normal'), dict(type='SynFlow', init='normal'),
    dict(type='Fisher', init='normal'), dict(type='JacobCov', init='normal'),
    dict(type='NWOT', init='normal'), dict(type='ZenScore'),
    dict(type='Params'), dict(type='FLOPs')
], ids=lambda c: c['type'])
def test_proxies_leave_the_callers_model_as_it_was(cfg):
    """Scoring re-initialises, trains BN and backpropagates on a copy: the
    caller's weights, BN statistics, mode and grads stay, and a second
    call gives the bit-identical score."""
    x, y = _batch()
    teacher = _build(_toy.toy_classifier(), seed=1).eval()
    student = _build(_toy.toy_classifier(), seed=2).eval()
    before = {k: v.clone() for k, v in student.state_dict().items()}
    proxy = PROXIES.build(cfg)
    if proxy.needs_teacher:
        proxy.prepare(teacher, x, y)
    torch.manual_seed(7)
    first = proxy(student, x, y)
    torch.manual_seed(7)
    second = proxy(student, x, y)
    assert first == second
    after = student.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not student.training
    assert all(p.grad is None for p in student.parameters())
    teacher_state = _build(_toy.toy_classifier(), seed=1).state_dict()
    assert all(torch.equal(v, teacher.state_dict()[k])
               for k, v in teacher_state.items())
