# DIST (Huang et al. 2022), the paper's CIFAR-100 setting: wrn-40-2 teaches
# wrn-16-2; loss = 1.0 CE + T^2 (2 inter-class + 2 intra-class Pearson
# distance), T = 4; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on
# one GPU. The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_dist=dict(type='DISTLoss', beta=2.0, gamma=2.0, tau=4,
                       inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
