# Quickstart student trained alone: CIFAR ResNet-8 at half width (8/16/32).
_base_ = ['./resnet20_1xb64_cifar10mini.py']
model = dict(
    backbone=dict(depth=8, widths=(8, 16, 32)),
    head=dict(in_channels=32))
