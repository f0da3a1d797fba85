# CTKD (Li et al. 2023) with KD, the official CIFAR-100 setting
# (scripts/run_cifar_distill.sh): resnet32x4 teaches resnet8x4; loss = 0.1 CE
# + 0.9 tau^2 KL with a learnable global temperature tau = 1 + 20 sigmoid(t),
# trained through a gradient-reversal layer whose weight rises 0 -> 1 by a
# cosine over the first 10 epochs (LossEpochHook sets it); 240 epochs, SGD
# 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/methods/ctkd.py',
]
model = _base_.pop('ctkd_model')
