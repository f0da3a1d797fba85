# Quickstart distillation: the same student and schedule, taught by the
# ResNet-20 teacher with KD (0.1 CE + 0.9 KL, T = 4).
_base_ = [
    '../_base_/datasets/cifar10_mini_bs64.py',
    '../_base_/schedules/cifar_sgd_cosine_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8, widths=(8, 16, 32)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    # set by the quickstart pipeline to the teacher stage's checkpoint
    teacher_ckpt='work_dirs/resnet20_1xb64_cifar10mini/epoch_15.pth',
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
