"""OFD (Heo et al., ICCV 2019): margin, partial L2, connector, pre-ReLU taps
on mmkd's CIFAR zoo and mmpretrain's ResNet, and the distiller."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.algorithms import FeatureTaps, bn_margin
from mmkd.models.connectors import OFDConnector
from mmkd.models.losses import OFDLoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def test_bn_margin_is_the_mean_of_the_negative_part():
    weight = torch.tensor([1.0, -2.0, 0.5, 1.0])
    bias = torch.tensor([0.0, 1.0, -1.0, 4.0])
    got = bn_margin(weight, bias)
    # independent: E[x | x < 0] by quadrature of the Gaussian density
    for c in range(3):
        mu, s = bias[c].item(), abs(weight[c].item())
        x = torch.linspace(mu - 12 * s, 0, 400001, dtype=torch.float64)
        pdf = torch.exp(-((x - mu) / s)**2 / 2)
        expected = (x * pdf).sum() / pdf.sum()
        assert abs(got[c].item() - expected.item()) < 1e-4, c
    # N(0, 1): -sqrt(2 / pi)
    assert abs(got[0].item() + math.sqrt(2 / math.pi)) < 1e-6
    # P(x < 0) = Phi(-4) < 1e-3: the official -3 sigma
    assert got[3].item() == pytest.approx(-3.0)


def test_ofd_loss_by_hand():
    # N=1, C=2, 1x2 maps; margins -1 and -0.5
    s = torch.tensor([[[[0.5, -2.0]], [[-1.0, 1.0]]]], requires_grad=True)
    t = torch.tensor([[[[1.0, -3.0]], [[-0.2, -0.6]]]])
    m = torch.tensor([-1.0, -0.5])
    # channel 0: t' = (1, -1); (0.5-1)^2 kept (t'>0); s=-2 < t'=-1 dropped
    # channel 1: t' = (-0.2, -0.5); s=-1 < -0.2 dropped; s=1 > -0.5 kept:
    # (1 + 0.5)^2 = 2.25
    loss = OFDLoss(loss_weight=2.0)(s, t, m)
    assert loss.item() == pytest.approx(2.0 * (0.25 + 2.25))
    loss.backward()
    torch.testing.assert_close(
        s.grad, 2.0 * torch.tensor([[[[-1.0, 0.0]], [[0.0, 3.0]]]]))
    # batchmean divides by N; mean by every element
    s2, t2 = torch.cat([s.detach()] * 2), torch.cat([t] * 2)
    assert OFDLoss()(s2, t2, m).item() == pytest.approx(2.5)
    assert OFDLoss(reduction='mean')(s2, t2, m).item() == pytest.approx(
        5.0 / 8)
    with pytest.raises(ValueError, match='OFDConnector'):
        OFDLoss()(s2[:, :1], t2, m)
    with pytest.raises(ValueError, match='margins'):
        OFDLoss()(s2, t2, m[:1])


def test_ofd_connector_is_conv1x1_bn_with_he_init():
    torch.manual_seed(0)
    conn = OFDConnector(64, 256)
    assert conn.conv.kernel_size == (1, 1) and conn.conv.bias is None
    assert isinstance(conn.norm, nn.BatchNorm2d)
    assert conn.conv.weight.std().item() == pytest.approx(
        math.sqrt(2 / 256), rel=0.05)
    assert conn(torch.randn(2, 64, 4, 4)).shape == (2, 256, 4, 4)


class Root(nn.Module):

    def __init__(self, backbone):
        super().__init__()
        self.student = nn.Module()
        self.student.backbone = backbone


def test_preact_tap_on_mmpretrain_resnet():
    from mmpretrain.models import ResNet
    backbone = ResNet(depth=18, out_indices=(3, ))
    backbone.eval()  # mmpretrain's ResNet.train returns None
    root = Root(backbone)
    taps = FeatureTaps(root, dict(pre='student.backbone.layer4.1:preact',
                                  x='student.backbone.layer4.1:input',
                                  out='student.backbone.layer4'))
    inputs = torch.randn(2, 3, 64, 64)
    with torch.no_grad(), taps.recording() as rec:
        backbone(inputs)
    block = backbone.layer4[1]
    with torch.no_grad():  # independent: the block by hand, no ReLU at end
        x = rec['x']
        hand = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(x))))) + x
    torch.testing.assert_close(rec['pre'], hand)
    assert (rec['pre'] < 0).any()  # really before the (in-place) ReLU
    torch.testing.assert_close(rec['out'], rec['pre'].clamp(min=0))


def test_preact_tap_on_cifar_resnet_equals_relu2_input():
    model = MODELS.build(tiny_classifier(depth=14))
    root = Root(model.backbone)
    taps = FeatureTaps(root, dict(a='student.backbone.layer3.1:preact',
                                  b='student.backbone.layer3.1.relu2:input'))
    with taps.recording() as rec:
        model.backbone(torch.randn(2, 3, 32, 32))
    torch.testing.assert_close(rec['a'], rec['b'])
    rec['a'].sum().backward()  # the clone keeps the graph
    assert model.backbone.layer3[1].conv2.weight.grad is not None


def test_preact_tap_refuses_a_block_not_ending_in_relu():
    backbone = MODELS.build(dict(type='WideResNet', depth=16, widen_factor=1))
    taps = FeatureTaps(Root(backbone),
                       dict(a='student.backbone.layer2.0:preact'))
    with pytest.raises(ValueError, match='does not end in a ReLU'):
        with taps.recording():
            backbone(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match='needs a block with an nn.ReLU'):
        FeatureTaps(Root(backbone), dict(a='student.backbone.layer2:preact'))


def ofd_cfg(**kwargs):
    cfg = dict(
        type='OFDDistiller',
        student=tiny_classifier(depth=8, widths=(8, 8, 16)),
        teacher=tiny_classifier(depth=14, widths=(8, 16, 32)),
        margins=dict(t_margin2='teacher.backbone.layer2.1.norm2',
                     t_margin3='teacher.backbone.layer3.1.norm2'),
        taps=dict(s_pre2='student.backbone.layer2.0:preact',
                  t_pre2='teacher.backbone.layer2.1:preact',
                  s_pre3='student.backbone.layer3.0:preact',
                  t_pre3='teacher.backbone.layer3.1:preact'),
        connectors=dict(
            s_feat2=dict(type='OFDConnector', in_channels=8,
                         out_channels=16, input='s_pre2'),
            s_feat3=dict(type='OFDConnector', in_channels=16,
                         out_channels=32, input='s_pre3')),
        distill_losses=dict(
            loss_ofd_2=dict(type='OFDLoss', loss_weight=5e-4,
                            inputs=dict(preds_S='s_feat2', preds_T='t_pre2',
                                        margin='t_margin2')),
            loss_ofd_3=dict(type='OFDLoss', loss_weight=1e-3,
                            inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                                        margin='t_margin3'))))
    cfg.update(kwargs)
    return cfg


def test_ofd_distiller_values_and_gradients():
    torch.manual_seed(0)
    model = MODELS.build(ofd_cfg())
    bn = model.teacher.backbone.layer3[1].norm2
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    model.train()
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(4, 3, 32, 32, generator=g)
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    tensors, _ = model.forward_tensors(inputs, samples)
    torch.testing.assert_close(tensors['t_margin3'],
                               bn_margin(bn.weight, bn.bias))
    expected = OFDLoss(loss_weight=1e-3)(tensors['s_feat3'],
                                         tensors['t_pre3'],
                                         tensors['t_margin3'])
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_ofd_2', 'loss_ofd_3'}
    # a second training forward moves BN stats, so compare in eval mode
    model.eval()
    tensors, _ = model.forward_tensors(inputs, samples)
    by_hand = OFDLoss(loss_weight=1e-3)(tensors['s_feat3'],
                                        tensors['t_pre3'],
                                        tensors['t_margin3'])
    torch.testing.assert_close(model.loss(inputs, samples)['loss_ofd_3'],
                               by_hand)
    assert expected.item() > 0
    model.train()
    model.zero_grad()
    losses = model.loss(inputs, samples)
    (losses['loss_ofd_2'] + losses['loss_ofd_3']).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    for conn in model.connectors.values():
        assert all(p.grad is not None for p in conn.parameters())
    assert model.student.backbone.layer3[0].conv2.weight.grad.abs().sum() > 0


def test_ofd_distiller_build_errors():
    with pytest.raises(ValueError, match='model.margins.t_margin3'):
        MODELS.build(ofd_cfg(margins=dict(
            t_margin3='teacher.backbone.layer3.1.norm9')))
    with pytest.raises(ValueError, match='not an affine BN'):
        MODELS.build(ofd_cfg(margins=dict(
            t_margin3='teacher.backbone.layer3.1.conv2')))
    with pytest.raises(ValueError, match='non-empty dict'):
        MODELS.build(ofd_cfg(margins={}))
    # a margin taken from the wrong stage is caught by the dry run
    with pytest.raises(ValueError, match='channels'):
        MODELS.build(ofd_cfg(margins=dict(
            t_margin2='teacher.backbone.layer2.1.norm2',
            t_margin3='teacher.backbone.layer2.1.norm2')))
