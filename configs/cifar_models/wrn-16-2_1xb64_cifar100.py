# Wide ResNet WRN-16-2 (Zagoruyko & Komodakis 2016) trained alone on
# CIFAR-100 with RepDistiller's schedule (240 epochs, SGD 0.05, x0.1 at
# 150/180/210).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='WideResNet', depth=16, widen_factor=2),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=128,
              loss=dict(type='CrossEntropyLoss')))
