# Multi-teacher KD: ResNet-56 and WRN-40-2 both teach ResNet-20 on CIFAR-100,
# each with its own KD loss: loss = 0.1 CE + 0.45 KD(resnet56) + 0.45
# KD(wrn-40-2), T = 4 (RepDistiller's KD balance split evenly; mmkd's
# choice, no published recipe); 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU.
# The teachers' checkpoints: run
# pipeline_multi-teacher_resnet56-wrn-40-2_resnet20_1xb64_cifar100.py, which
# trains both, or set model.teachers.<name>.ckpt (e.g. to
# work_dirs/resnet56_1xb64_cifar100/epoch_240.pth); None keeps a teacher
# random (a warning says so).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='MultiTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teachers=dict(
        resnet56=dict(
            model=dict(
                type='ImageClassifier',
                backbone=dict(type='CIFARResNet', depth=56),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=100,
                          in_channels=64,
                          loss=dict(type='CrossEntropyLoss'))),
            ckpt=None),
        wrn_40_2=dict(
            model=dict(
                type='ImageClassifier',
                backbone=dict(type='WideResNet', depth=40, widen_factor=2),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=100,
                          in_channels=128,
                          loss=dict(type='CrossEntropyLoss'))),
            ckpt=None)),
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_kd_resnet56=dict(
            type='KDLoss', tau=4, loss_weight=0.45,
            inputs=dict(preds_S='s_logits', preds_T='t_logits_resnet56')),
        loss_kd_wrn_40_2=dict(
            type='KDLoss', tau=4, loss_weight=0.45,
            inputs=dict(preds_S='s_logits', preds_T='t_logits_wrn_40_2'))))
