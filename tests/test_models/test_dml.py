"""DML (Zhang et al., CVPR 2018): peers trained together from scratch."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


@pytest.fixture(autouse=True, scope='module')
def mmkd_scope():
    init_default_scope('mmkd')


def batch(n=4):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, 3, 32, 32, generator=g),
            [DataSample().set_gt_label(i % 10) for i in range(n)])


def dml(**kwargs):
    cfg = dict(type='DMLDistiller',
               peers=dict(a=tiny_classifier(),
                          b=tiny_classifier(widths=(16, 16, 32))))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def kl(p_logits, q_logits):
    """KL(softmax(p) || softmax(q)), batch mean, written out."""
    p = F.softmax(p_logits, 1)
    return (p * (p.log() - F.log_softmax(q_logits, 1))).sum(1).mean()


def test_losses_by_formula():
    model = dml()
    model.eval()  # fixed BN statistics: compare with direct forwards
    x, samples = batch()
    y = torch.tensor([s.gt_label.item() for s in samples])
    losses = model.loss(x, samples)
    za = model.student(x, mode='tensor')
    zb = model.peers.b(x, mode='tensor')
    assert set(losses) == {'student.loss', 'loss_ce_b', 'loss_kl_a_b',
                           'loss_kl_b_a'}
    assert losses['student.loss'].item() == pytest.approx(
        F.cross_entropy(za, y).item(), rel=1e-5)
    assert losses['loss_ce_b'].item() == pytest.approx(
        F.cross_entropy(zb, y).item(), rel=1e-5)
    assert losses['loss_kl_a_b'].item() == pytest.approx(
        kl(zb, za).item(), rel=1e-4, abs=1e-7)
    assert losses['loss_kl_b_a'].item() == pytest.approx(
        kl(za, zb).item(), rel=1e-4, abs=1e-7)


def test_each_kl_trains_only_its_peer():
    model = dml()
    x, samples = batch()
    losses = model.loss(x, samples)
    losses['loss_kl_a_b'].backward(retain_graph=True)
    assert model.student.head.fc.weight.grad.abs().sum() > 0
    assert model.peers.b.head.fc.weight.grad is None
    model.zero_grad(set_to_none=True)
    losses['loss_kl_b_a'].backward()
    assert model.peers.b.head.fc.weight.grad.abs().sum() > 0
    assert model.student.head.fc.weight.grad is None


def test_three_peers_export_and_prediction():
    model = dml(peers=dict(a=tiny_classifier(), b=tiny_classifier(),
                           c=tiny_classifier()), export_peer='b', tau=2.)
    assert model.export_peer == 'b'
    assert set(model.peers) == {'a', 'c'}
    assert model.distill_losses['loss_kl_b_a'].loss_weight == 0.5
    assert model.distill_losses['loss_kl_b_a'].tau == 2.
    assert len([k for k in model.distill_losses if k.startswith(
        'loss_kl_')]) == 6
    assert set(model.named_teachers()) == {'peer.a', 'peer.c'}
    assert model.teacher_trainable
    exported = model.export_state_dict()
    assert exported.keys() == model.student.state_dict().keys()
    model.eval()
    x, _ = batch()
    assert torch.allclose(model(x), model.student(x, mode='tensor'))
    # every peer trains: no frozen parameter, none kept in eval mode
    model.train()
    assert all(p.requires_grad for p in model.parameters())
    assert all(m.training for m in model.peers.modules())


def test_errors():
    with pytest.raises(ValueError, match='at least two peers'):
        dml(peers=dict(a=tiny_classifier()))
    with pytest.raises(ValueError, match='export_peer'):
        dml(export_peer='z')
