"""ReviewKD (Chen et al., CVPR 2021): HCL, its warm-up, the ABF review path
and the distiller's list inputs."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.connectors import ReviewKDFusion
from mmkd.models.losses import HCLLoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def block_mean(x, size):
    """Average pooling to ``size`` by reshaping (size divides the map)."""
    n, c, h, w = x.shape
    return x.reshape(n, c, size, h // size, size, w // size).mean((3, 5))


def test_hcl_by_hand():
    s = torch.tensor([[[[1., 2.], [3., 4.]]]])
    t = torch.zeros_like(s)
    # 2x2: pools 4 and 2 skipped; pool 1 (value 2.5) weight 1/2
    expected = (7.5 + 0.5 * 6.25) / 1.5
    assert HCLLoss()(s, t).item() == pytest.approx(expected)
    # 8x8: weights 1, 1/2, 1/4, 1/8 over the map and pools 4, 2, 1
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 3, 8, 8, generator=g), torch.randn(2, 3, 8, 8,
                                                            generator=g)
    terms = [((s - t)**2).mean()] + [
        ((block_mean(s, k) - block_mean(t, k))**2).mean() for k in (4, 2, 1)]
    hcl8 = (terms[0] + terms[1] / 2 + terms[2] / 4 + terms[3] / 8) / 1.875
    # a pooled [N, C] level is a 1x1 map: plain MSE
    v_s, v_t = torch.randn(2, 5, generator=g), torch.randn(2, 5, generator=g)
    total = HCLLoss(loss_weight=0.6)([s, v_s], [t, v_t])
    torch.testing.assert_close(total,
                               0.6 * (hcl8 + ((v_s - v_t)**2).mean()))
    with pytest.raises(ValueError, match='one teacher tensor per'):
        HCLLoss()([s, v_s], [t])
    with pytest.raises(ValueError, match='out_channels'):
        HCLLoss()([s], [t[:, :2]])


def test_hcl_warmup_is_the_official_zero_based_ramp():
    loss = HCLLoss(warmup_epochs=20)
    s, t = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    assert loss(s, t).item() == pytest.approx(1.0)  # built: no ramp
    for epoch, factor in ((1, 0.0), (11, 0.5), (21, 1.0), (40, 1.0)):
        loss.set_epoch(epoch)
        assert loss(s, t).item() == pytest.approx(factor), epoch
    loss = HCLLoss(warmup_epochs=0)
    loss.set_epoch(1)
    assert loss(s, t).item() == pytest.approx(1.0)


def test_fusion_reviews_deeper_levels_by_hand():
    torch.manual_seed(0)
    fuse = ReviewKDFusion([4, 6], [3, 5], mid_channels=2).eval()
    x0 = torch.randn(2, 4, 4, 4, requires_grad=True)
    x1 = torch.randn(2, 6, requires_grad=True)  # pooled deepest level
    out0, out1 = fuse([x0, x1])
    deep, shallow = fuse.abfs[1], fuse.abfs[0]
    assert deep.att_conv is None and shallow.att_conv is not None
    with torch.no_grad():  # by hand
        r1 = deep.conv1(x1[:, :, None, None])
        torch.testing.assert_close(out1, deep.conv2(r1))
        a = shallow.conv1(x0)
        r = r1.expand(-1, -1, 4, 4)  # nearest upsampling of a 1x1 map
        z = torch.sigmoid(F.conv2d(torch.cat([a, r], 1),
                                   shallow.att_conv[0].weight,
                                   shallow.att_conv[0].bias))
        torch.testing.assert_close(
            out0, shallow.conv2(a * z[:, :1] + r * z[:, 1:]))
    assert out0.shape == (2, 3, 4, 4) and out1.shape == (2, 5, 1, 1)
    # the shallow output depends on the deep input, not the other way round
    out0.sum().backward()
    assert x1.grad.abs().sum() > 0
    x0.grad = None
    x1.grad = None
    fuse([x0, x1])[1].sum().backward()
    assert x0.grad is None
    with pytest.raises(ValueError, match='list of 2 student maps'):
        fuse(x0)
    with pytest.raises(ValueError, match='in_channels'):
        fuse([x0[:, :3], x1])


def review_cfg(**kwargs):
    cfg = dict(
        type='SingleTeacherDistiller',
        student=tiny_classifier(depth=8, widths=(8, 8, 16)),
        teacher=tiny_classifier(depth=14, widths=(8, 16, 32)),
        taps=dict(s_feat2='student.backbone.layer2',
                  s_feat3='student.backbone.layer3',
                  s_pool='student.head.fc:input',
                  t_pre2='teacher.backbone.layer2.1:preact',
                  t_pre3='teacher.backbone.layer3.1:preact',
                  t_pool='teacher.head.fc:input'),
        connectors=dict(s_review=dict(
            type='ReviewKDFusion', in_channels=[8, 16, 16],
            out_channels=[16, 32, 32],
            input=['s_feat2', 's_feat3', 's_pool'])),
        distill_losses=dict(loss_review=dict(
            type='HCLLoss', loss_weight=0.6,
            inputs=dict(feats_S='s_review',
                        feats_T=['t_pre2', 't_pre3', 't_pool']))))
    cfg.update(kwargs)
    return cfg


def test_review_distiller_value_and_gradients():
    torch.manual_seed(0)
    model = MODELS.build(review_cfg())
    g = torch.Generator().manual_seed(1)
    inputs = torch.randn(4, 3, 32, 32, generator=g)
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    model.eval()  # fixed BN statistics: a second forward gives the same
    tensors, _ = model.forward_tensors(inputs, samples)
    assert len(tensors['s_review']) == 3
    by_hand = HCLLoss(loss_weight=0.6)(
        tensors['s_review'],
        [tensors['t_pre2'], tensors['t_pre3'], tensors['t_pool']])
    torch.testing.assert_close(model.loss(inputs, samples)['loss_review'],
                               by_hand)
    model.train()
    losses = model.loss(inputs, samples)
    losses['loss_review'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    fusion = model.connectors['s_review']
    assert all(p.grad is not None for n, p in fusion.named_parameters()), \
        [n for n, p in fusion.named_parameters() if p.grad is None]
    assert model.student.backbone.layer2[0].conv1.weight.grad.abs().sum() > 0


def test_list_inputs_are_checked_at_build_time():
    cfg = review_cfg()
    cfg['connectors']['s_review']['input'] = ['s_feat2', 's_feat9', 's_pool']
    with pytest.raises(ValueError,
                       match=r'connectors.s_review.input\[1\]=.s_feat9'):
        MODELS.build(cfg)
    cfg = review_cfg()
    cfg['distill_losses']['loss_review']['inputs']['feats_T'] = []
    with pytest.raises(ValueError, match='empty list'):
        MODELS.build(cfg)
    cfg = review_cfg()  # a level with the wrong teacher channels
    cfg['connectors']['s_review']['out_channels'] = [16, 16, 32]
    with pytest.raises(ValueError, match='level 1'):
        MODELS.build(cfg)
