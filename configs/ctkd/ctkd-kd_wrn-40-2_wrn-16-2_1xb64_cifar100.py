# CTKD (Li et al. 2023) with KD, the official CIFAR-100 setting
# (scripts/run_cifar_distill.sh): wrn-40-2 teaches wrn-16-2; loss = 0.1 CE +
# 0.9 tau^2 KL with a learnable global temperature tau = 1 + 20 sigmoid(t),
# trained through a gradient-reversal layer whose weight rises 0 -> 1 by a
# cosine over the first 10 epochs (LossEpochHook sets it); 240 epochs, SGD
# 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
    '../_base_/methods/ctkd.py',
]
model = _base_.pop('ctkd_model')
