# DKD + LS (Sun et al. 2024, logit standardization), the official code's
# CIFAR-100 setting: resnet110 teaches resnet32; loss = 1.0 CE + warmup x T^2
# (15 TCKD + 30 NCKD) between the Z-scored logits: mdistiller's alpha = 1 and
# beta = 2 times LS's KD weight 15, base temperature T = 2 (its log
# logs/DKD/dkd,resnet110,resnet32,2,15,2.0.txt); linear warm-up over 20
# epochs; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU.
# The teacher comes from configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
    '../_base_/methods/ls.py',
]
model = _base_.pop('ls_models').dkd
model.distill_losses.loss_dkd.update(alpha=15.0, beta=30.0, tau=2)
