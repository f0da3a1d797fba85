# Quickstart teacher: CIFAR ResNet-20 on the bundled CIFAR-10 subset.
_base_ = [
    '../_base_/datasets/cifar10_mini_bs64.py',
    '../_base_/schedules/cifar_sgd_cosine_15e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=20),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
