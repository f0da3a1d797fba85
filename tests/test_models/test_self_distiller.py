"""Self-distillation (BYOT, Zhang et al. ICCV 2019): branches on the
student's stages, taught by its own deepest classifier."""
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


def byot(**kwargs):
    # tiny CIFAR ResNet: layer1 8 x 32 x 32, layer2 16 x 16 x 16,
    # layer3 32 x 8 x 8; one branch on layer2
    cfg = dict(
        type='SelfDistiller', student=tiny_classifier(),
        student_loss_weight=0.9,
        taps=dict(feat2='student.backbone.layer2',
                  feat3='student.backbone.layer3'),
        connectors=dict(
            b2_conv=dict(type='ConvConnector', in_channels=16,
                         out_channels=32, kernel_size=3, stride=2,
                         norm_cfg=dict(type='BN'), act=True, input='feat2'),
            b2_fc=dict(type='LinearConnector', in_channels=32,
                       out_channels=10, input='b2_conv')),
        distill_losses=dict(
            loss_ce_b2=dict(type='PeerCELoss', loss_weight=0.9,
                            inputs=dict(preds='b2_fc',
                                        gt_labels='gt_labels')),
            loss_kd_b2=dict(type='KDLoss', tau=3., loss_weight=0.1,
                            inputs=dict(preds_S='b2_fc',
                                        preds_T='s_logits')),
            loss_feat_b2=dict(type='HintLoss', reduction='sum',
                              loss_weight=1e-6,
                              inputs=dict(feats_S='b2_conv',
                                          feats_T='feat3'))))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def batch(n=4):
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, 3, 32, 32, generator=g),
            [DataSample().set_gt_label(i % 10) for i in range(n)])


def test_losses_by_formula():
    model = byot()
    model.eval()
    x, samples = batch()
    y = torch.tensor([s.gt_label.item() for s in samples])
    losses = model.loss(x, samples)
    assert set(losses) == {'student.loss', 'loss_ce_b2', 'loss_kd_b2',
                           'loss_feat_b2'}
    z = model.student(x, mode='tensor')
    tensors, _ = model.forward_tensors(x, samples)  # the stage taps
    assert torch.allclose(tensors['s_logits'], z, atol=1e-6)
    feat2, feat3 = tensors['feat2'], tensors['feat3']
    assert feat2.shape == (4, 16, 16, 16) and feat3.shape == (4, 32, 8, 8)
    branch = model.connectors.b2_conv(feat2)
    zb = model.connectors.b2_fc(branch)
    assert losses['student.loss'].item() == pytest.approx(
        0.9 * F.cross_entropy(z, y).item(), rel=1e-5)
    assert losses['loss_ce_b2'].item() == pytest.approx(
        0.9 * F.cross_entropy(zb, y).item(), rel=1e-5)
    p = F.softmax(z / 3, 1)
    kl = (p * (p.log() - F.log_softmax(zb / 3, 1))).sum(1).mean()
    assert losses['loss_kd_b2'].item() == pytest.approx(
        0.1 * 9 * kl.item(), rel=1e-4)
    assert losses['loss_feat_b2'].item() == pytest.approx(
        1e-6 * (branch - feat3).pow(2).sum().item(), rel=1e-4)


def test_the_deepest_outputs_teach_without_gradient():
    model = byot()
    x, samples = batch()
    losses = model.loss(x, samples)
    (losses['loss_kd_b2'] + losses['loss_feat_b2']).backward()
    assert model.connectors.b2_fc.fc.weight.grad.abs().sum() > 0
    # the deepest classifier and stage get nothing from these terms
    assert model.student.head.fc.weight.grad is None
    assert all(p.grad is None
               for p in model.student.backbone.layer3.parameters())


def test_export_drops_the_branches_and_bad_stage():
    model = byot()
    exported = model.export_state_dict()
    assert exported.keys() == model.student.state_dict().keys()
    assert not any('b2_' in k for k in exported)
    assert model.named_teachers() == {}
    with pytest.raises(ValueError, match='nearest'):
        byot(taps=dict(feat2='student.backbone.layer2',
                       feat3='student.backbone.layer4'))
