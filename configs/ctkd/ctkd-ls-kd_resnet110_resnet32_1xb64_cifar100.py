# CTKD + LS (Sun et al. 2024's CTKD folder, scripts/run_cifar_distill.sh):
# resnet110 teaches resnet32; loss = 0.1 CE + 9 tau^2 KL between the Z-scored
# logits, with CTKD's learnable global temperature tau = 1 + 20 sigmoid(t)
# through a gradient-reversal layer (weight 0 -> 1 by a cosine over 10
# epochs); 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU.
# The teacher comes from configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
    '../_base_/methods/ctkd.py',
]
model = _base_.pop('ctkd_model')
model.distill_losses.loss_kd.update(loss_weight=9, logit_stand='code')
