"""SRD / SRRL (Yang et al.): the student's feature through a connector and
the teacher's frozen classifier."""
import math

import pytest
import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from mmkd.models.connectors import SRDConnector
from mmkd.models.losses import SoftmaxRegressionLoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def test_softmax_regression_loss_by_hand():
    # N=1, C=2 maps of 1x2; K=2 classes
    s = torch.tensor([[[[1., 3.]], [[0., 2.]]]], requires_grad=True)
    t = torch.tensor([[[[0., 0.]], [[1., 1.]]]])
    w = torch.tensor([[1., 0.], [1., -1.]])
    b = torch.tensor([0.5, 0.])
    z_t = torch.tensor([[2., 0.]])
    # pooled s = (2, 1), t = (0, 1): fm = ((2-0)^2 + 0) / 2 = 2
    # z_ts = (2 + 0.5, 2 - 1) = (2.5, 1): sr = ((0.5)^2 + 1^2) / 2 = 0.625
    out = SoftmaxRegressionLoss(fm_weight=2.0, loss_weight=0.5)(s, t, z_t, w,
                                                                 b)
    assert out['fm'].item() == pytest.approx(0.5 * 2.0 * 2.0)
    assert out['sr'].item() == pytest.approx(0.5 * 0.625)
    # paper form: tau^2 KL(softmax(z_t / tau) || softmax(z_ts / tau))
    out = SoftmaxRegressionLoss(sr_form='kl', tau=2.0)(s, t, z_t, w, b)
    p = torch.softmax(z_t / 2, 1)
    q = torch.softmax(torch.tensor([[2.5, 1.]]) / 2, 1)
    expected = 4 * (p * (p.log() - q.log())).sum()
    assert out['sr'].item() == pytest.approx(expected.item(), rel=1e-5)
    # gradient of sr reaches s through the fixed classifier, not w
    w.requires_grad_(False)
    SoftmaxRegressionLoss()(s, t, z_t, w, b)['sr'].backward()
    assert s.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="'mse'"):
        SoftmaxRegressionLoss(sr_form='l1')
    with pytest.raises(ValueError, match='out_channels'):
        SoftmaxRegressionLoss()(s[:, :1], t, z_t, w, b)


def test_srd_connector_conv_bn_relu():
    torch.manual_seed(0)
    conn = SRDConnector(32, 128)
    assert isinstance(conn.act, nn.ReLU) and conn.conv.bias is None
    assert conn.conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / 128), rel=0.05)
    assert (conn(torch.randn(2, 32, 4, 4)) >= 0).all()


def srd_cfg(**kwargs):
    cfg = dict(
        type='SRDDistiller',
        student=tiny_classifier(depth=8, widths=(8, 8, 16)),
        teacher=tiny_classifier(depth=14, widths=(8, 16, 32)),
        taps=dict(s_feat='student.backbone.layer3',
                  t_feat='teacher.backbone.layer3'),
        connectors=dict(s_proj=dict(type='SRDConnector', in_channels=16,
                                    out_channels=32, input='s_feat')),
        distill_losses=dict(loss_srd=dict(
            type='SoftmaxRegressionLoss',
            inputs=dict(feats_S='s_proj', feats_T='t_feat',
                        preds_T='t_logits', cls_weight='t_cls_weight',
                        cls_bias='t_cls_bias'))))
    cfg.update(kwargs)
    return cfg


def test_srd_distiller_uses_the_teacher_classifier_and_trains_student():
    torch.manual_seed(0)
    model = MODELS.build(srd_cfg())
    inputs = torch.randn(4, 3, 32, 32,
                         generator=torch.Generator().manual_seed(1))
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    model.eval()
    tensors, _ = model.forward_tensors(inputs, samples)
    fc = model.teacher.head.fc
    assert tensors['t_cls_weight'] is fc.weight
    with torch.no_grad():  # by hand: teacher fc on the pooled projection
        s = tensors['s_proj'].mean((2, 3))
        t = tensors['t_feat'].mean((2, 3))
        sr = ((s @ fc.weight.t() + fc.bias - tensors['t_logits'])**2).mean()
        fm = ((s - t)**2).mean()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_srd.fm', 'loss_srd.sr'}
    torch.testing.assert_close(losses['loss_srd.sr'], sr)
    torch.testing.assert_close(losses['loss_srd.fm'], fm)
    model.train()
    losses = model.loss(inputs, samples)
    losses['loss_srd.sr'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None
               for p in model.connectors['s_proj'].parameters())
    assert model.student.backbone.layer3[0].conv1.weight.grad.abs().sum() > 0
    assert model.student.head.fc.weight.grad is None  # own head: CE only


def test_srd_distiller_classifier_errors():
    with pytest.raises(ValueError, match='model.classifier'):
        MODELS.build(srd_cfg(classifier='teacher.head.fc2'))
    with pytest.raises(ValueError, match='not an nn.Linear'):
        MODELS.build(srd_cfg(classifier='teacher.backbone.layer3'))
