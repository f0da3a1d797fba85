# RepDistiller's resnet8x4 (CIFAR ResNet-8, 4x wider) trained alone on
# CIFAR-100 with RepDistiller's schedule (240 epochs, SGD 0.05, x0.1 at
# 150/180/210).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(32, 64, 128, 256)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
              loss=dict(type='CrossEntropyLoss')))
