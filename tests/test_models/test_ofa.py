"""OFA-KD (Hao et al., NeurIPS 2023): the OFA loss in both forms, the stage
branches, and a ViT teacher with a CNN student."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.connectors import OFABranch
from mmkd.models.losses import OFALoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def test_ofa_loss_by_hand():
    # p_T = (0.25, 0.75), p_S = (0.5, 0.5), label 0, eps 2
    z_t = torch.tensor([[0., math.log(3.)]])
    z_s = torch.zeros(1, 2, requires_grad=True)
    y = torch.tensor([0])
    ln2 = math.log(2.)
    # code: target (0.25 + 1)^2 - 1 = 0.5625, other 0.75^2 = 0.5625
    assert OFALoss(eps=2.)(z_s, z_t, y).item() == pytest.approx(1.125 * ln2)
    # paper: target (1.25)^2 = 1.5625, other 0.75
    assert OFALoss(eps=2., form='paper')(z_s, z_t, y).item() == \
        pytest.approx(2.3125 * ln2)
    # soft labels use their argmax; loss_weight scales
    soft = torch.tensor([[0.9, 0.1]])
    assert OFALoss(eps=2., loss_weight=3.)(z_s, z_t, soft).item() == \
        pytest.approx(3 * 1.125 * ln2)
    # eps = 1 (code form) is the cross-entropy with the teacher at T
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    labels = torch.tensor([0, 1, 2, 3])
    ce = -(F.softmax(b / 2, 1) * F.log_softmax(a / 2, 1)).sum(1).mean()
    torch.testing.assert_close(OFALoss(temperature=2.)(a, b, labels), ce)
    OFALoss(eps=2.)(z_s, z_t, y).backward()
    assert z_s.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="'paper'"):
        OFALoss(form='both')
    with pytest.raises(ValueError, match='num_classes'):
        OFALoss()(a[:, :3], b, labels)


def test_ofa_branch_structure():
    torch.manual_seed(0)
    b = OFABranch(16, 64, 10, num_downsample=2)
    convs = [m for m in b.blocks.modules() if isinstance(m, torch.nn.Conv2d)]
    # two SepConvs: 16 -> 32 (stride 2), 32 -> 64 (stride 2)
    assert [c.out_channels for c in convs if c.kernel_size == (1, 1)] == [
        16, 32, 32, 64]
    assert sum(c.stride == (2, 2) for c in convs) == 2
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    out = b(x)
    assert out.shape == (2, 10)
    out.sum().backward()
    assert x.grad.abs().sum() > 0
    last = OFABranch(32, 64, 10, num_downsample=0)
    assert isinstance(last.blocks[0], torch.nn.Conv2d)
    assert last.blocks[0].kernel_size == (1, 1)
    assert b.fc.weight.std().item() == pytest.approx(0.02, rel=0.2)
    with pytest.raises(ValueError, match='in_channels'):
        b(torch.randn(2, 8, 8, 8))


def tiny_vit(num_classes=10):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=32, num_layers=1, num_heads=2,
                                feedforward_channels=64),
                      img_size=32, patch_size=8),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=num_classes,
                  in_channels=32, loss=dict(type='CrossEntropyLoss')))


def ofa_cfg():
    stages = dict(s_feat1=('layer1', 8, 2), s_feat2=('layer2', 8, 1),
                  s_feat3=('layer3', 16, 0))
    return dict(
        type='SingleTeacherDistiller',
        student=tiny_classifier(depth=8, widths=(8, 8, 16)),
        teacher=tiny_vit(),
        taps={k: f'student.backbone.{v[0]}' for k, v in stages.items()},
        connectors={
            f's_branch{i}': dict(type='OFABranch', in_channels=c,
                                 out_channels=32, num_classes=10,
                                 num_downsample=d, input=k)
            for i, (k, (_, c, d)) in enumerate(stages.items(), 1)},
        distill_losses=dict(
            **{f'loss_ofa_{i}': dict(
                type='OFALoss', eps=1.5,
                inputs=dict(preds_S=f's_branch{i}', preds_T='t_logits',
                            gt_labels='gt_labels')) for i in (1, 2, 3)},
            loss_ofa_kd=dict(type='OFALoss', eps=1.5,
                             inputs=dict(preds_S='s_logits',
                                         preds_T='t_logits',
                                         gt_labels='gt_labels'))))


def test_ofa_with_a_vit_teacher_values_and_gradients():
    torch.manual_seed(0)
    model = MODELS.build(ofa_cfg())
    inputs = torch.randn(4, 3, 32, 32,
                         generator=torch.Generator().manual_seed(1))
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    model.eval()
    tensors, _ = model.forward_tensors(inputs, samples)
    by_hand = OFALoss(eps=1.5)(tensors['s_branch1'], tensors['t_logits'],
                               tensors['gt_labels'])
    losses = model.loss(inputs, samples)
    torch.testing.assert_close(losses['loss_ofa_1'], by_hand)
    assert set(losses) == {'student.loss', 'loss_ofa_1', 'loss_ofa_2',
                           'loss_ofa_3', 'loss_ofa_kd'}
    model.train()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if k.startswith('loss_ofa')).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    for name, conn in model.connectors.items():
        assert all(p.grad is not None for p in conn.parameters()), name
    assert model.student.backbone.layer1[0].conv1.weight.grad.abs().sum() > 0


def test_benchmark_ofa_stage_follows_the_student_widths(tmp_path):
    """benchmarks/cakd_cifar10.py's OFA-KD stage builds for other widths."""
    import argparse
    import importlib.util
    import os.path as osp

    from mmengine.config import Config

    from conftest import REPO_ROOT
    spec = importlib.util.spec_from_file_location(
        'cakd_cifar10', osp.join(REPO_ROOT, 'benchmarks', 'cakd_cifar10.py'))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = argparse.Namespace(
        teacher_ckpt=None, teacher_epochs=1, epochs=1, batch=8, seed=0,
        n_train=16, n_test=8, student_widths=[4, 8, 128],
        work_dir=str(tmp_path))
    pipeline = Config.fromfile(bench.write_configs(args, str(tmp_path)))
    assert [s['name'] for s in pipeline.stages][-1] == 'student_ofa'
    cfg = Config.fromfile(str(tmp_path / 'student_ofa.py'))
    cfg.model.teacher_ckpt = None
    model = MODELS.build(cfg.model)
    branches = model.connectors
    assert [b.in_channels for b in branches.values()] == [4, 8, 128]
    assert branches['s_branch3'].fc.in_features == 128  # max(128, 96)
