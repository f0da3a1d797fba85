"""DIH: heads, head fine-tuning, head selection, cohort loss, pipeline."""
import copy
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmkd.datasets.split import SplitDataset
from mmkd.engine import run_pipeline
from mmkd.models.connectors.aux_heads import DIHHead
from mmkd.models.losses.dih import CohortKDLoss
from mmkd.registry import MODELS
from mmkd.utils.checkpoint import load_checkpoint_file

from conftest import tiny_classifier  # noqa: E402
from test_engine._tiny_configs import BASE, tiny_config  # noqa: E402

COHORT = dict(type='CohortKDLoss', tau=5, alpha=0.1,
              inputs=dict(preds_S='s_logits', preds_T='t_cohort_logits',
                          gt_labels='gt_labels'))


def classifier(backbone, channels, num_classes=10):
    return dict(
        type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=channels, loss=dict(type='CrossEntropyLoss')))


def batch(n=4, size=32, num_classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, size, size, generator=g)
    labels = torch.randint(0, num_classes, (n, ), generator=g)
    return inputs, [DataSample().set_gt_label(int(y)) for y in labels]


def finetuner(teacher=None, **kwargs):
    cfg = dict(type='HeadFinetuner',
               teacher=teacher or tiny_classifier(widths=(8, 16, 32)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


# (C, H / input, W / input) of each default mount; ResNet-8/14/20 have
# ResNet-110's shapes (only the number of blocks differs).
TEACHERS = {
    'resnet110': (dict(type='CIFARResNet', depth=110), 64,
                  [(16, 1), (32, 2), (64, 4)]),
    'wrn-28-2': (dict(type='WideResNet', depth=28, widen_factor=2), 128,
                 [(32, 1), (64, 2), (128, 4)]),
    'resnet18': (dict(type='ResNet_CIFAR', depth=18), 512,
                 [(64, 1), (128, 2), (256, 4), (512, 8)]),
    'resnet34': (dict(type='ResNet_CIFAR', depth=34), 512,
                 [(64, 1), (128, 2), (256, 4), (512, 8)]),
    # pool0..pool2 halve the map; block4 follows a 4th pool (functional on
    # 64x64 inputs), so its map is 4x4 at both sizes
    'vgg11': (dict(type='CIFARVGG', depth=11), 512,
              [(64, 2), (128, 4), (256, 8), (512, None)]),
}


@pytest.mark.parametrize('size', [32, 64])
@pytest.mark.parametrize('name', list(TEACHERS))
def test_default_heads_sized_from_the_real_input(name, size):
    backbone, channels, stages = TEACHERS[name]
    model = finetuner(classifier(backbone, channels),
                      input_shape=(3, size, size)).eval()
    assert len(model.heads) == len(stages)
    for (c, down), head in zip(stages, model.heads.values()):
        side = 4 if down is None else size // down
        assert head.in_shape == (c, side, side)
        assert head.fc.in_features == c * side * side
        assert head.fc.out_features == 10
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size), mode='tensor')
    assert [tuple(v.shape) for v in out.values()] == [(2, 10)] * (
        len(stages) + 1)


def test_flat_head_checks_its_input_and_pooled_head_takes_any_size():
    head = DIHHead(in_shape=(16, 32, 32), num_classes=10)
    with pytest.raises(ValueError, match='input_shape'):
        head(torch.randn(2, 16, 64, 64))
    pooled = DIHHead(in_shape=(16, 32, 32), num_classes=10, pool='avg',
                     pool_size=2)
    assert pooled.fc.in_features == 64
    for side in (32, 64, 48):
        assert pooled(torch.randn(2, 16, side, side)).shape == (2, 10)


def test_bad_mount_paths_fail_at_build_with_valid_paths():
    with pytest.raises(ValueError) as info:
        finetuner(mounts=['teacher.backbone.layer4'])
    assert 'not a module of the teacher' in str(info.value)
    assert "'teacher.backbone.layer3'" in str(info.value)
    with pytest.raises(ValueError) as info:
        finetuner(mounts=['teacher.backbone.layer1', 'teacher.head.fc'])
    assert 'mounts[1]' in str(info.value)
    assert 'not a feature map' in str(info.value)
    assert "'teacher.backbone.layer2'" in str(info.value)
    with pytest.raises(ValueError, match='not a module of the teacher'):
        finetuner(mounts=['student.backbone.layer1'])
    with pytest.raises(ValueError, match='no default mount points'):
        finetuner(classifier(dict(type='CIFARMobileNetV2'), 1280))


def _hand_kd_terms(z_s, cohort, labels, tau):
    """Per-classifier tau^2 KL and the CE, with plain Python math."""

    def softmax(row, t=1.0):
        e = [math.exp(v / t) for v in row]
        return [v / sum(e) for v in e]

    n = len(z_s)
    kls = []
    for z_t in cohort:
        total = 0.0
        for s_row, t_row in zip(z_s, z_t):
            p_s, p_t = softmax(s_row, tau), softmax(t_row, tau)
            total += sum(pt * (math.log(pt) - math.log(ps))
                         for pt, ps in zip(p_t, p_s))
        kls.append(tau**2 * total / n)
    ce = -sum(math.log(softmax(row)[y]) for row, y in zip(z_s, labels)) / n
    return kls, ce


def test_cohort_loss_matches_hand_computation():
    z_s = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]]
    cohort = [[[2.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
              [[0.0, 0.0, 1.0], [1.0, -1.0, 0.5]],
              [[0.3, 0.2, 0.1], [-0.5, 0.0, 2.0]]]
    labels = [0, 2]
    alphas = [0.1, 0.3, 0.2]
    kls, ce = _hand_kd_terms(z_s, cohort, labels, tau=2.0)
    per_head = sum(a * kl + (1 - a) * ce for a, kl in zip(alphas, kls))
    once = sum(a * kl for a, kl in zip(alphas, kls)) + (1 - 0.2) * ce
    args = (torch.tensor(z_s), [torch.tensor(z) for z in cohort],
            torch.tensor(labels))
    for mode, expected in (('per_head', per_head), ('once', once)):
        loss = CohortKDLoss(tau=2.0, alpha=alphas, ce_mode=mode,
                            loss_weight=2.0)(*args)
        assert loss.item() == pytest.approx(2.0 * expected, rel=1e-5)
    # one alpha for all: k + 1 canonical KD losses
    same = CohortKDLoss(tau=2.0, alpha=0.1)(*args)
    assert same.item() == pytest.approx(
        sum(0.1 * kl + 0.9 * ce for kl in kls), rel=1e-5)


def test_cohort_loss_per_head_alpha_switches_heads_off():
    g = torch.Generator().manual_seed(0)
    z_s = torch.randn(4, 5, generator=g)
    cohort = [torch.randn(4, 5, generator=g) for _ in range(3)]
    labels = torch.tensor([0, 1, 2, 3])
    for mode in ('per_head', 'once'):
        off = CohortKDLoss(alpha=[0.1, 0.0, 0.3], ce_mode=mode)
        without = CohortKDLoss(alpha=[0.1, 0.3], ce_mode=mode)
        value = off(z_s, cohort, labels)
        # head 1 is off: its logits do not matter, neither does its CE
        other = [cohort[0], cohort[1] * 10 + 3, cohort[2]]
        torch.testing.assert_close(value, off(z_s, other, labels))
        torch.testing.assert_close(
            value, without(z_s, [cohort[0], cohort[2]], labels))
    ce = torch.nn.functional.cross_entropy(z_s, labels)
    torch.testing.assert_close(
        CohortKDLoss(alpha=[0, 0, 0])(z_s, cohort, labels), ce)
    with pytest.raises(ValueError, match='one alpha per classifier'):
        CohortKDLoss(alpha=[0.1, 0.1])(z_s, cohort, labels)
    with pytest.raises(ValueError, match='alpha'):
        CohortKDLoss(alpha=1.5)


def test_head_training_leaves_teacher_weights_and_bn_stats_unchanged():
    model = finetuner()
    model.init_weights()
    model.train()
    assert model.heads.training and not model.teacher.training
    teacher = copy.deepcopy(model.teacher.state_dict())
    heads = copy.deepcopy(model.heads.state_dict())
    # all parameters go to the optimizer, as mmengine's constructor does
    optim = OptimWrapper(torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4,
        nesterov=True))
    for step in range(3):
        inputs, samples = batch(seed=step)
        losses = model.train_step(dict(inputs=inputs, data_samples=samples),
                                  optim)
    assert set(losses) == {'loss', 'loss_head1', 'loss_head2', 'loss_head3'}
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher[key]), key  # BN stats included
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not torch.equal(model.heads.head1.fc.weight,
                           heads['head1.fc.weight'])


def test_predict_reports_the_teacher_and_every_head():
    model = finetuner().eval()
    inputs, samples = batch()
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
        logits = model(inputs, mode='tensor')
    for i, sample in enumerate(out):
        torch.testing.assert_close(sample.pred_score,
                                   logits['teacher'][i].softmax(0))
        for name in ('head1', 'head2', 'head3'):
            torch.testing.assert_close(sample.get(name).pred_score,
                                       logits[name][i].softmax(0))
            assert sample.get(name).eval_mask
            assert int(sample.get(name).gt_label) == int(sample.gt_label)


def _save(model, path, **meta):
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return str(path)


def test_selection_keeps_each_heads_best_and_distiller_loads_it(tmp_path):
    model = finetuner()
    with pytest.raises(KeyError, match='MultiTasksMetric'):
        model.select_heads({'accuracy/top1': 1.0}, epoch=1)
    first = {f'head{j}_accuracy/top1': 50.0 - j for j in (1, 2, 3)}
    assert model.select_heads(first, epoch=1) == ['head1', 'head2', 'head3']
    kept = copy.deepcopy(model.heads.state_dict())
    with torch.no_grad():
        for p in model.heads.parameters():
            p.add_(1.0)
    second = {'head1_accuracy/top1': 60.0, 'head2_accuracy/top1': 10.0,
              'head3_accuracy/top1': 47.0}
    assert model.select_heads(second, epoch=2) == ['head1']
    assert model.best_epoch.tolist() == [2, 1, 1]
    assert model.best_acc.tolist() == [60.0, 48.0, 47.0]
    torch.testing.assert_close(model.best_heads.head1.fc.weight,
                               model.heads.head1.fc.weight)
    torch.testing.assert_close(model.best_heads.head2.fc.weight,
                               kept['head2.fc.weight'])

    ckpt = _save(model, tmp_path / 'heads.pth', epoch=2)
    dih = MODELS.build(dict(
        type='DIHDistiller', student=tiny_classifier(widths=(4, 8, 16)),
        teacher=tiny_classifier(widths=(8, 16, 32)), teacher_ckpt=ckpt,
        student_loss_weight=0.0, distill_losses=dict(loss_dih=COHORT)))
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(dih.teacher.state_dict()[key], value), key
    for key, value in model.best_heads.state_dict().items():
        assert torch.equal(dih.heads.state_dict()[key], value), key

    # a plain teacher checkpoint has no heads
    plain = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=model.teacher.state_dict()), plain)
    with pytest.raises(ValueError, match='holds no DIH heads'):
        MODELS.build(dict(
            type='DIHDistiller', student=tiny_classifier(widths=(4, 8, 16)),
            teacher=tiny_classifier(widths=(8, 16, 32)),
            teacher_ckpt=str(plain)))
    # other mounts than the heads stage's
    with pytest.raises(ValueError, match='same mounts'):
        MODELS.build(dict(
            type='DIHDistiller', student=tiny_classifier(widths=(4, 8, 16)),
            teacher=tiny_classifier(widths=(8, 16, 32)), teacher_ckpt=ckpt,
            mounts=['teacher.backbone.layer2', 'teacher.backbone.layer3']))


def test_dih_distiller_cohort_tensors_and_frozen_teacher():
    model = MODELS.build(dict(
        type='DIHDistiller', student=tiny_classifier(widths=(4, 8, 16)),
        teacher=tiny_classifier(widths=(8, 16, 32)),
        student_loss_weight=0.0, distill_losses=dict(loss_dih=COHORT)))
    model.train()
    assert not model.teacher.training and not model.heads.training
    inputs, samples = batch()
    tensors = model.forward_tensors(inputs, samples)[0]
    cohort = tensors['t_cohort_logits']
    assert len(cohort) == 4
    assert cohort[0] is tensors['t_logits']
    for j in (1, 2, 3):
        assert cohort[j] is tensors[f't_head_logits_{j}']
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_dih'}
    assert losses['student.loss'].item() == 0
    losses['loss_dih'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.heads.parameters())
    assert all(p.grad is not None for p in model.student.parameters())
    with pytest.raises(ValueError, match='t_head_logits_3'):
        MODELS.build(dict(
            type='DIHDistiller', student=tiny_classifier(widths=(4, 8, 16)),
            teacher=tiny_classifier(widths=(8, 16, 32)),
            distill_losses=dict(loss_kd=dict(
                type='KDLoss', inputs=dict(preds_S='s_logits',
                                           preds_T='t_head_logits_4')))))


def test_split_dataset_is_disjoint_and_fixed():
    inner = dict(type='CIFAR10Mini', split='train', indices=100)
    train = SplitDataset(inner, part='train', val_ratio=0.1, seed=0)
    val = SplitDataset(inner, part='val', val_ratio=0.1, seed=0)
    assert (len(train), len(val)) == (90, 10)
    assert not set(train.indices) & set(val.indices)
    assert sorted(train.indices + val.indices) == list(range(100))
    assert SplitDataset(inner, part='val').indices == val.indices
    assert SplitDataset(inner, part='val', seed=1).indices != val.indices
    assert val.metainfo['classes'][3] == 'cat'
    assert val[0]['img_path'] == train.dataset[val.indices[0]]['img_path']


def _heads_config(teacher, work_dir):
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
custom_imports = dict(imports=['mmkd.datasets.split'])
model = dict(type='HeadFinetuner', teacher={teacher!r},
             teacher_ckpt=None)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(_delete_=True, type='SplitDataset', part='train',
                 val_ratio=0.25,
                 dataset=dict(type='CIFAR10Mini', split='train',
                              indices=64, pipeline=[dict(type='PackInputs')])))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(_delete_=True, type='SplitDataset', part='val',
                 val_ratio=0.25,
                 dataset=dict(type='CIFAR10Mini', split='train',
                              indices=64, pipeline=[dict(type='PackInputs')])))
val_evaluator = [dict(type='Accuracy'), dict(
    type='MultiTasksMetric',
    task_metrics={{f'head{{j}}': [dict(type='Accuracy')] for j in (1, 2, 3)}})]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=2))
custom_hooks = _base_.custom_hooks + [dict(type='HeadSelectHook')]
randomness = dict(seed=0)
work_dir = {str(work_dir)!r}
"""


def test_teacher_heads_student_pipeline(tmp_path):
    teacher = tiny_classifier(widths=(8, 16, 32))
    (tmp_path / 'teacher.py').write_text(tiny_config(
        tmp_path / 'unused', epochs=1, n_train=64, batch=16))
    (tmp_path / 'heads.py').write_text(_heads_config(teacher,
                                                     tmp_path / 'unused'))
    student = tiny_config(tmp_path / 'unused', epochs=1, n_train=64,
                          batch=16)
    student += f"""
model = dict(type='DIHDistiller',
             student={tiny_classifier(widths=(4, 8, 16))!r},
             teacher={teacher!r}, teacher_ckpt=None,
             student_loss_weight=0.0,
             distill_losses=dict(loss_dih={COHORT!r}))
"""
    (tmp_path / 'student.py').write_text(student)
    (tmp_path / 'pipe.py').write_text(f"""
stages = [
    dict(name='teacher', config='teacher.py'),
    dict(name='heads', config='heads.py',
         cfg_options={{'model.teacher_ckpt': '{{teacher}}'}}),
    dict(name='student', config='student.py',
         cfg_options={{'model.teacher_ckpt': '{{heads}}'}}),
]
work_dir = {str(tmp_path / 'work')!r}
""")
    cfg = Config.fromfile(str(tmp_path / 'pipe.py'))
    summaries = run_pipeline(cfg, runner_type='KDRunner', log=lambda s: None)
    assert [s['name'] for s in summaries] == ['teacher', 'heads', 'student']
    heads_metrics = summaries[1]['metrics']
    assert {f'head{j}_accuracy/top1' for j in (1, 2, 3)} <= set(heads_metrics)
    # the heads checkpoint: the teacher stage's teacher, unchanged, and the
    # heads selected by the epoch's validation (written in after it)
    teacher_state = load_checkpoint_file(
        summaries[0]['checkpoint'])['state_dict']
    heads_state = load_checkpoint_file(
        summaries[1]['checkpoint'])['state_dict']
    for key, value in teacher_state.items():
        assert torch.equal(heads_state['teacher.' + key], value), key
    assert heads_state['best_epoch'].tolist() == [1, 1, 1]
    assert heads_state['best_acc'].tolist() == pytest.approx(
        [heads_metrics[f'head{j}_accuracy/top1'] for j in (1, 2, 3)])
    student_state = load_checkpoint_file(
        summaries[2]['checkpoint'])['state_dict']
    for key, value in heads_state.items():
        if key.startswith('best_heads.'):
            assert torch.equal(student_state[key[5:]], value), key
    assert osp.isfile(summaries[2]['checkpoint'])
    again = run_pipeline(cfg, runner_type='KDRunner', log=lambda s: None)
    assert all(s['skipped'] for s in again)
