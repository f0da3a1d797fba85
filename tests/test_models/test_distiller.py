import copy

import pytest
import torch
from mmpretrain.structures import DataSample

from mmkd.models import SingleTeacherDistiller
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402

KD = dict(type='KDLoss', tau=4, loss_weight=0.9,
          inputs=dict(preds_S='s_logits', preds_T='t_logits'))


def batch(n=4, num_classes=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 32, 32, generator=g)
    labels = torch.randint(0, num_classes, (n, ), generator=g)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return inputs, samples


def distiller(**kwargs):
    cfg = dict(type='SingleTeacherDistiller',
               student=tiny_classifier(),
               teacher=tiny_classifier(depth=14, widths=(16, 32, 64)),
               distill_losses=dict(loss_kd=KD))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_kd_loss_keys_weights_and_values():
    model = distiller(student_loss_weight=0.1)
    # eval mode: BN uses running stats, so a second forward gives the same
    # logits and the losses can be recomputed by hand
    model.eval()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_kd'}
    with torch.no_grad():
        s = model.student(inputs, mode='tensor')
        t = model.teacher(inputs, mode='tensor')
    labels = torch.tensor([int(d.gt_label) for d in samples])
    ce = torch.nn.functional.cross_entropy(s, labels)
    kl = torch.nn.functional.kl_div(
        torch.log_softmax(s / 4, 1), torch.softmax(t / 4, 1),
        reduction='batchmean') * 16
    torch.testing.assert_close(losses['student.loss'], 0.1 * ce)
    torch.testing.assert_close(losses['loss_kd'], 0.9 * kl)


def test_teacher_frozen_eval_and_untouched():
    model = distiller()
    model.train()
    assert model.student.training and not model.teacher.training
    before = copy.deepcopy(model.teacher.state_dict())
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None for p in model.student.parameters())
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key  # BN stats included


def test_trainable_teacher_gets_gradients():
    model = distiller(teacher_trainable=True, teacher_eval=False)
    model.train()
    assert model.teacher.training
    assert all(p.requires_grad for p in model.teacher.parameters())
    inputs, samples = batch()
    tensors = model.forward_tensors(inputs, samples)[0]
    # KD detaches the teacher's logits; a loss that uses them undetached
    # (e.g. a teacher-side CE) trains the teacher
    tensors['t_logits'].sum().backward()
    assert all(p.grad is not None for p in model.teacher.parameters())


def test_predict_and_tensor_use_the_student():
    model = distiller().eval()
    inputs, samples = batch()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
        expected = model.student.predict(inputs, batch()[1])
    for p, e in zip(preds, expected):
        torch.testing.assert_close(p.pred_score, e.pred_score)
    torch.testing.assert_close(
        model(inputs, mode='tensor'), model.student(inputs, mode='tensor'))


def test_taps_connectors_and_feature_loss():
    from mmkd.registry import DISTILL_LOSSES
    import torch.nn as nn

    @DISTILL_LOSSES.register_module(force=True)
    class _ToyMSE(nn.Module):

        def forward(self, feats_S, feats_T):
            return ((feats_S - feats_T)**2).mean()

    try:
        model = distiller(
            taps=dict(s_feat='student.backbone.layer3',
                      t_feat='teacher.backbone.layer3',
                      s_pool='student.head.fc:input'),
            connectors=dict(s_hint=dict(type='ConvConnector', in_channels=32,
                                        out_channels=64, input='s_feat')),
            distill_losses=dict(
                loss_kd=KD,
                loss_hint=dict(type='_ToyMSE', inputs=dict(
                    feats_S='s_hint', feats_T='t_feat'))))
        model.train()
        inputs, samples = batch()
        losses = model.loss(inputs, samples)
        assert set(losses) == {'student.loss', 'loss_kd', 'loss_hint'}
        losses['loss_hint'].backward()
        assert model.connectors.s_hint.conv.weight.grad is not None
        assert model.taps.records == {}  # cleared after each step
    finally:
        DISTILL_LOSSES.module_dict.pop('_ToyMSE')


@pytest.mark.parametrize('kwargs, message', [
    (dict(taps=dict(f='student.backbone.layer9')),
     "no module 'student.backbone.layer9'; nearest valid paths: "
     "'student.backbone.layer3'"),
    (dict(taps=dict(f='backbone.layer3')), "must start with one of"),
    (dict(taps=dict(f='student.backbone.layer3:inputs')), "use ':input'"),
    (dict(distill_losses=dict(kd=KD)), "rename it 'loss_kd'"),
    (dict(distill_losses=dict(loss_kd=dict(KD, type='KDLos'))),
     "nearest: 'KDLoss'"),
    (dict(distill_losses=dict(loss_kd=dict(KD, inputs=dict(
        preds_S='s_logits', preds_t='t_logits')))),
     "has no argument 'preds_t'"),
    (dict(distill_losses=dict(loss_kd=dict(KD, inputs=dict(
        preds_S='s_logits')))), "required arguments ['preds_T']"),
    (dict(distill_losses=dict(loss_kd=dict(KD, inputs=dict(
        preds_S='s_logit', preds_T='t_logits')))),
     "'s_logit' is not a known tensor; nearest: 's_logits'"),
    (dict(distill_losses=dict(loss_kd=dict(type='KDLoss'))),
     'needs `inputs=dict(...)`'),
    (dict(taps=dict(s='student.backbone.layer3'),
          connectors=dict(c=dict(type='ConvConnector', in_channels=16,
                                 out_channels=64, input='s'))),
     "connectors.c failed on input 's' of shape (2, 32, 8, 8)"),
    (dict(taps=dict(s='student.backbone.layer3'),
          connectors=dict(c=dict(type='ConvConnector', in_channels=32,
                                 out_channels=64)),),
     'connectors.c has no `input`'),
])
def test_build_time_errors(kwargs, message):
    with pytest.raises((ValueError, KeyError, TypeError)) as info:
        distiller(**kwargs)
    assert message in str(info.value)


def test_loss_shape_mismatch_caught_at_build():
    # 10 vs 100 classes: the dry run names the loss and the shapes
    with pytest.raises(ValueError, match=r'distill_losses.loss_kd failed on '
                       r"inputs \{'preds_S': \(2, 10\), 'preds_T': \(2, 100\)"):
        distiller(teacher=tiny_classifier(num_classes=100))


def test_tap_on_module_running_twice_is_refused():
    import torch.nn as nn
    relu = nn.ReLU()
    student = MODELS.build(tiny_classifier())
    student.backbone.layer3[0].relu1 = relu
    student.backbone.layer3[0].relu2 = relu  # one module used twice
    with pytest.raises(RuntimeError, match='ran twice in one forward'):
        distiller(student=student,
                  taps=dict(r='student.backbone.layer3.0.relu1'))


def test_student_from_config_file(tmp_path):
    path = tmp_path / 'student.py'
    path.write_text(f'model = {tiny_classifier()!r}\n')
    model = distiller(student=str(path))
    assert model.student.backbone.layer3[0].conv1.out_channels == 32
    with pytest.raises(FileNotFoundError, match='model.student: config file'):
        distiller(student=str(tmp_path / 'nope.py'))


def test_non_classifier_student_is_refused():
    with pytest.raises(TypeError, match='model.student builds a CIFARResNet'):
        distiller(student=dict(type='CIFARResNet', depth=8))


def test_teacher_checkpoint_loading_and_errors(tmp_path):
    teacher = MODELS.build(tiny_classifier(depth=14, widths=(16, 32, 64)))
    path = str(tmp_path / 't.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, path)
    model = distiller(teacher_ckpt=path)
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value)
    # init_weights (called by the runner) must not reset the teacher
    model.init_weights()
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value)

    # a distiller checkpoint: its student becomes the teacher (TAKD)
    path2 = str(tmp_path / 'distilled.pth')
    torch.save({'state_dict': {f'student.{k}': v for k, v in
                               teacher.state_dict().items()}}, path2)
    model = distiller(teacher_ckpt=path2)
    assert torch.equal(model.teacher.head.fc.weight, teacher.head.fc.weight)

    with pytest.raises(FileNotFoundError, match='model.teacher_ckpt'):
        distiller(teacher_ckpt=str(tmp_path / 'missing.pth'))
    bad = tmp_path / 'corrupt.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(RuntimeError, match='corrupt or not a torch'):
        distiller(teacher_ckpt=str(bad))
    with pytest.raises(RuntimeError, match='does not fit the teacher'):
        distiller(teacher_ckpt=path,
                  teacher=tiny_classifier(depth=8, widths=(16, 32, 64)))
    wrong = MODELS.build(tiny_classifier(depth=14, widths=(16, 32, 64),
                                         num_classes=100))
    torch.save(wrong.state_dict(), path)
    with pytest.raises(RuntimeError, match=r'head.fc.weight has shape '
                       r'\(100, 64\).*num_classes'):
        distiller(teacher_ckpt=path)


def test_student_checkpoint_survives_init_weights(tmp_path):
    student = MODELS.build(tiny_classifier())
    path = str(tmp_path / 's.pth')
    torch.save(student.state_dict(), path)
    model = distiller(student_ckpt=path)
    model.init_weights()
    assert torch.equal(model.student.head.fc.weight, student.head.fc.weight)


def test_direct_class_use():
    model = SingleTeacherDistiller(
        student=tiny_classifier(), teacher=tiny_classifier(),
        distill_losses=dict(loss_kd=KD))
    assert isinstance(model.distill_losses['loss_kd'], torch.nn.Module)


def test_taps_record_only_during_the_training_forward():
    model = distiller(taps=dict(s='student.backbone.layer3',
                                t='teacher.backbone.layer3'))
    inputs, samples = batch()
    with torch.no_grad():
        for _ in range(2):  # validation batches: nothing recorded
            model(inputs, samples, mode='predict')
            model(inputs, mode='tensor')
    assert model.taps.records == {}
    model.train()
    model.loss(inputs, batch()[1])
    assert model.taps.records == {}


def test_multi_teacher_per_teacher_losses_and_ensemble(tmp_path):
    t1 = MODELS.build(tiny_classifier(depth=14, widths=(16, 32, 64)))
    path = str(tmp_path / 't1.pth')
    torch.save(t1.state_dict(), path)
    model = MODELS.build(dict(
        type='MultiTeacherDistiller',
        student=tiny_classifier(),
        teachers=dict(
            a=dict(model=tiny_classifier(depth=14, widths=(16, 32, 64)),
                   ckpt=path),
            b=dict(model=tiny_classifier(depth=8, widths=(16, 32, 64)))),
        taps=dict(fa='teachers.a.backbone.layer3'),
        distill_losses=dict(
            loss_kd_a=dict(KD, inputs=dict(preds_S='s_logits',
                                           preds_T='t_logits_a')),
            loss_kd_b=dict(KD, inputs=dict(preds_S='s_logits',
                                           preds_T='t_logits_b')),
            loss_kd_mean=dict(KD, inputs=dict(preds_S='s_logits',
                                              preds_T='t_logits_mean')))))
    assert torch.equal(model.teachers.a.head.fc.weight, t1.head.fc.weight)
    model.eval()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert set(losses) == {'student.loss', 'loss_kd_a', 'loss_kd_b',
                           'loss_kd_mean'}
    with torch.no_grad():
        s = model.student(inputs, mode='tensor')
        ta = model.teachers.a(inputs, mode='tensor')
        tb = model.teachers.b(inputs, mode='tensor')
    kd = model.distill_losses.loss_kd_a
    torch.testing.assert_close(losses['loss_kd_a'], kd(s, ta))
    torch.testing.assert_close(losses['loss_kd_b'], kd(s, tb))
    torch.testing.assert_close(losses['loss_kd_mean'], kd(s, (ta + tb) / 2))
    model.train()
    assert not model.teachers.a.training and not model.teachers.b.training
    sum(model.loss(inputs, samples).values()).backward()
    assert all(p.grad is None for p in model.teachers.parameters())
    assert set(model.named_teachers()) == {'teacher.a', 'teacher.b'}

    with pytest.raises(ValueError, match=r"'t_logits' is not a known "
                       r"tensor; nearest: 't_logits_a'"):
        MODELS.build(dict(
            type='MultiTeacherDistiller', student=tiny_classifier(),
            teachers=dict(a=dict(model=tiny_classifier())),
            distill_losses=dict(loss_kd=KD)))
    with pytest.raises(TypeError, match='not `teacher`'):
        MODELS.build(dict(type='MultiTeacherDistiller',
                          student=tiny_classifier(),
                          teacher=tiny_classifier(),
                          teachers=dict(a=dict(model=tiny_classifier()))))
    with pytest.raises(ValueError, match=r'model.teachers.a must be '
                       r'dict\(model=..., ckpt=...\)'):
        MODELS.build(dict(type='MultiTeacherDistiller',
                          student=tiny_classifier(),
                          teachers=dict(a=dict(model=tiny_classifier(),
                                               checkpoint='x'))))
