# DKD + LS (Sun et al. 2024, logit standardization), the official code's
# CIFAR-100 setting: wrn-40-2 teaches wrn-16-2; loss = 1.0 CE + warmup x T^2
# (12 TCKD + 24 NCKD) between the Z-scored logits: mdistiller's alpha = 1 and
# beta = 2 times LS's KD weight 12, base temperature T = 2 (its log
# logs/DKD/dkd,wrn_40_2,wrn_16_2,2,12,2.0.txt); linear warm-up over 20 epochs;
# 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. The
# teacher comes from configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
    '../_base_/methods/ls.py',
]
model = _base_.pop('ls_models').dkd
model.distill_losses.loss_dkd.update(alpha=12.0, beta=24.0, tau=2)
