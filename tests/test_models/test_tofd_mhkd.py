"""TOFD and MHKD: their losses against hand computations, heads, configs."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.connectors.aux_heads import MHKDHead, TOFDBranch
from mmkd.models.losses.mhkd import MHKDHeadLoss
from mmkd.models.losses.tofd import TOFDLoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def batch(n=4, num_classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 32, 32, generator=g)
    labels = torch.randint(0, num_classes, (n, ), generator=g)
    return inputs, [DataSample().set_gt_label(int(y)) for y in labels]


def _softmax(row, t=1.0):
    e = [math.exp(v / t) for v in row]
    return [v / sum(e) for v in e]


def test_tofd_loss_matches_hand_computation_and_temperature_grows():
    loss = TOFDLoss(s_dim=2, t_dim=2, alpha=0.5, beta=0.25, tau=3.0,
                    tau_epochs=10)
    with torch.no_grad():
        loss.link.weight.copy_(torch.eye(2))  # orthogonal: no penalty
    f_s = [[1.0, 2.0], [0.0, -1.0]]
    f_t = [[0.0, 2.0], [1.0, 1.0]]
    z_s = [[1.0, 0.0, -1.0], [0.2, 0.1, 0.0]]
    z_t = [[0.0, 2.0, 0.0], [1.0, 1.0, -1.0]]
    labels = [0, 2]
    args = [torch.tensor(v) for v in (f_s, f_t, z_s, z_t, labels)]
    feat = math.sqrt(sum((a - b)**2 for ra, rb in zip(f_s, f_t)
                         for a, b in zip(ra, rb)))
    ce = -sum(math.log(_softmax(r)[y]) for r, y in zip(z_s, labels)) / 2

    def soft(t):
        return -sum(
            sum(pt * math.log(ps)
                for pt, ps in zip(_softmax(rt, t), _softmax(rs, t)))
            for rs, rt in zip(z_s, z_t)) / 2

    assert loss.temperature == pytest.approx(1.3)  # epoch 1 of 10
    assert loss(*args).item() == pytest.approx(0.5 * feat + ce + soft(1.3),
                                               rel=1e-5)
    loss.set_epoch(10)
    assert loss.temperature == pytest.approx(4.0)
    assert loss(*args).item() == pytest.approx(0.5 * feat + ce + soft(4.0),
                                               rel=1e-5)
    loss.set_epoch(30)
    assert loss.temperature == pytest.approx(4.0)  # capped


def test_tofd_orthogonality_penalty_and_link_gradients():
    loss = TOFDLoss(s_dim=3, t_dim=5, beta=1.0)
    w = loss.link.weight.detach()
    expected = (torch.linalg.norm(w @ w.T - torch.eye(5)) +
                torch.linalg.norm(w.T @ w - torch.eye(3)))
    torch.testing.assert_close(loss.orthogonality(), expected)
    f_s, f_t = torch.randn(4, 3), torch.randn(4, 5, requires_grad=True)
    z_s = torch.randn(4, 6, requires_grad=True)
    z_t = torch.randn(4, 6, requires_grad=True)
    loss(f_s, f_t, z_s, z_t, torch.tensor([0, 1, 2, 3])).backward()
    assert loss.link.weight.grad is not None and z_s.grad is not None
    assert f_t.grad is None and z_t.grad is None  # the teacher's: detached
    with pytest.raises(ValueError, match='s_dim=4'):
        loss(torch.randn(4, 4), f_t, z_s, z_t, torch.tensor([0, 1, 2, 3]))


def test_mhkd_head_loss_matches_hand_computation():
    z_s = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]]
    z_t = [[2.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    labels = [0, 2]
    tau, alpha, beta = 4.0, 0.1, 0.5

    def ce(z):
        return -sum(math.log(_softmax(r)[y]) for r, y in zip(z, labels)) / 2

    kl = sum(
        sum(pt * (math.log(pt) - math.log(ps))
            for pt, ps in zip(_softmax(rt, tau), _softmax(rs, tau)))
        for rs, rt in zip(z_s, z_t)) / 2
    expected = ce(z_t) + beta * ((1 - alpha) * ce(z_s) + alpha * tau**2 * kl)
    loss = MHKDHeadLoss(alpha=alpha, beta=beta, tau=tau)
    value = loss(torch.tensor(z_s), torch.tensor(z_t), torch.tensor(labels))
    assert value.item() == pytest.approx(expected, rel=1e-5)


def test_mhkd_teacher_head_learns_from_labels_only():
    g = torch.Generator().manual_seed(0)
    z_s = torch.randn(4, 5, generator=g, requires_grad=True)
    z_t = torch.randn(4, 5, generator=g, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3])
    MHKDHeadLoss(alpha=0.5, beta=2.0)(z_s, z_t, labels).backward()
    only_ce = torch.autograd.grad(F.cross_entropy(z_t, labels), z_t)[0]
    torch.testing.assert_close(z_t.grad, only_ce)
    assert z_s.grad is not None


def test_heads_keep_small_maps_and_branch_shapes():
    assert MHKDHead(512, 100)(torch.randn(2, 512, 4, 4)).shape == (2, 100)
    assert MHKDHead(8, 10, mid_channels=16)(torch.randn(2, 8, 1, 1)).shape \
        == (2, 10)
    branch = TOFDBranch((16, 32, 64))
    assert branch(torch.randn(2, 16, 32, 32)).shape == (2, 64)
    assert TOFDBranch((64, ))(torch.randn(2, 64, 8, 8)).shape == (2, 64)
    with pytest.raises(ValueError, match='channels'):
        TOFDBranch((16, 32))(torch.randn(2, 8, 32, 32))


def _mhkd_distiller():
    heads = {}
    for j, c in enumerate((8, 16, 32), 1):
        heads[f't_head{j}'] = dict(type='MHKDHead', in_channels=c,
                                   num_classes=10, mid_channels=16,
                                   input=f't_feat{j}')
        heads[f's_head{j}'] = dict(type='MHKDHead', in_channels=c,
                                   num_classes=10, mid_channels=16,
                                   input=f's_feat{j}')
    losses = dict(loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.1,
                               inputs=dict(preds_S='s_logits',
                                           preds_T='t_logits')))
    for j in (1, 2, 3):
        losses[f'loss_head{j}'] = dict(
            type='MHKDHeadLoss', inputs=dict(preds_S=f's_head{j}',
                                             preds_T=f't_head{j}',
                                             gt_labels='gt_labels'))
    return MODELS.build(dict(
        type='SingleTeacherDistiller', student=tiny_classifier(),
        teacher=tiny_classifier(), student_loss_weight=0.9,
        taps={
            **{f't_feat{j}': f'teacher.backbone.layer{j}' for j in (1, 2, 3)},
            **{f's_feat{j}': f'student.backbone.layer{j}' for j in (1, 2, 3)}
        },
        connectors=heads, distill_losses=losses))


def test_mhkd_distiller_trains_teacher_heads_not_teacher():
    model = _mhkd_distiller()
    model.train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_kd', 'loss_head1',
                           'loss_head2', 'loss_head3'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    for name in ('t_head1', 's_head3'):
        assert all(p.grad is not None
                   for p in model.connectors[name].parameters()), name
    assert all(p.grad is not None for p in model.student.parameters())


def test_tofd_distiller_branches_links_and_epoch():
    tofd = dict(type='TOFDLoss', s_dim=32, t_dim=32, tau_epochs=5)
    model = MODELS.build(dict(
        type='SingleTeacherDistiller', student=tiny_classifier(),
        teacher=tiny_classifier(), student_loss_weight=0.0,
        taps=dict(s_feat1='student.backbone.layer1',
                  s_feat='student.head.fc:input',
                  t_feat='teacher.head.fc:input'),
        connectors=dict(
            b1_feat=dict(type='TOFDBranch', channels=(8, 16, 32),
                         input='s_feat1'),
            b1_logits=dict(type='LinearConnector', in_channels=32,
                           out_channels=10, input='b1_feat')),
        distill_losses=dict(
            loss_branch1=dict(**tofd, inputs=dict(
                feats_S='b1_feat', feats_T='t_feat', preds_S='b1_logits',
                preds_T='t_logits', gt_labels='gt_labels')),
            loss_final=dict(**tofd, inputs=dict(
                feats_S='s_feat', feats_T='t_feat', preds_S='s_logits',
                preds_T='t_logits', gt_labels='gt_labels')))))
    model.train()
    # what LossEpochHook does before each epoch
    for module in model.modules():
        if hasattr(module, 'set_epoch'):
            module.set_epoch(5)
    assert model.distill_losses.loss_final.temperature == pytest.approx(4.0)
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.distill_losses.loss_branch1.link.weight.grad is not None
    assert all(p.grad is not None
               for p in model.connectors.b1_feat.parameters())
    assert all(p.grad is not None for p in model.student.parameters())
