# MLKD (Jin et al. 2023), the official code's CIFAR-100 setting as released
# (configs/cifar100/ours, first commit): vgg13 teaches vgg8; 0.1 (CE weak + CE
# strong) + MLKDLoss(tau=4, loss_weight=0.9, mode='code') on a weak (crop,
# flip) and a strong (+ RandAugment) view; 480 epochs, SGD 0.025, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/vgg13_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_weak-strong_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/vgg13_vgg8_cifar100.py',
    '../_base_/methods/mlkd.py',
]
model = _base_.pop('mlkd_model')
optim_wrapper = dict(optimizer=dict(lr=0.025))
train_cfg = dict(max_epochs=480)
