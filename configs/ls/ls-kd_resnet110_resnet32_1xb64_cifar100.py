# KD + LS (Sun et al. 2024, logit standardization), the official code's
# CIFAR-100 setting: resnet110 teaches resnet32; loss = 0.1 CE + 9 x T^2 KL
# between the Z-scored logits at base temperature T = 2 (its log
# logs/KD/kd,resnet110,resnet32,2,9.txt); 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
    '../_base_/methods/ls.py',
]
model = _base_.pop('ls_models').kd
