# DML (Zhang et al. 2018) on CIFAR-100: two ResNet-32 peers trained together
# from scratch, each with CE + KL(other || self) at temperature 1; no
# pretrained teacher. Peer `a` is the student (validated, exported); peer
# `b`'s accuracy is logged after each validation (TeacherEvalHook). Schedule:
# RepDistiller's 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 (the
# other tables' schedule, not the paper's; see README.md).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
__resnet32 = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=32),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
model = dict(type='DMLDistiller', peers=dict(a=__resnet32, b=__resnet32),
             tau=1.0, kl_weight=1.0)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DataCheckHook'),
    dict(type='LossEpochHook'),
    dict(type='TeacherEvalHook'),
]
