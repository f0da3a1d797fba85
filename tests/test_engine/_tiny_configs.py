"""Tiny training configs on the bundled CIFAR-10 subset, for engine tests."""
import os.path as osp

from conftest import REPO_ROOT, tiny_classifier

BASE = osp.join(REPO_ROOT, 'configs', '_base_')


def spread(n, total):
    """``n`` indices spread evenly over a class-sorted split (all classes)."""
    return list(range(0, total, total // n))[:n]


def tiny_config(work_dir, distill=False, epochs=2, n_train=64, batch=16,
                augment=True, norm_cfg=None, val=True, seed=0):
    """A config text: tiny ResNet-8 (or KD into it) on ``n_train`` images
    of all ten classes, validated on 100 test images (10 per class)."""
    student = tiny_classifier(norm_cfg=norm_cfg)
    if distill:
        model = dict(
            type='SingleTeacherDistiller', student=student,
            teacher=tiny_classifier(widths=(16, 32, 64), norm_cfg=norm_cfg),
            student_loss_weight=0.1,
            distill_losses=dict(loss_kd=dict(
                type='KDLoss', tau=4, loss_weight=0.9,
                inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
    else:
        model = student
    pipeline = [dict(type='PackInputs')]
    if augment:
        pipeline = [dict(type='RandomCrop', crop_size=32, padding=4),
                    dict(type='RandomFlip', prob=0.5,
                         direction='horizontal')] + pipeline
    text = f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(
    batch_size={batch}, num_workers=0,
    dataset=dict(indices={spread(n_train, 5000)!r}, pipeline={pipeline!r}),
    sampler=dict(type='DefaultSampler', shuffle=True, seed={seed}))
val_dataloader = dict(batch_size=50,
                      dataset=dict(indices={spread(100, 3000)!r}))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                    weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[1],
                       gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs={epochs}, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=5))
randomness = dict(seed={seed})
work_dir = {str(work_dir)!r}
"""
    if not val:
        text += 'val_dataloader = None\nval_cfg = None\nval_evaluator = None\n'
    return text


def write_config(path, **kwargs):
    path.write_text(tiny_config(**kwargs))
    return str(path)
