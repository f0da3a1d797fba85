# CIFAR ResNet-8 trained alone with CE on CIFAR-100 with DIH's schedule (DIH
# README Table 2: 200 epochs, SGD lr 0.1, Nesterov momentum 0.9, weight decay
# 5e-4, lr x0.1 at 60/120/180, batch 64); the student-alone baseline of DIH's
# pairs with a ResNet-8 student.
# Seeds of the paper: --cfg-options randomness.seed=30 (and 50, 67).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
