# DKD (Zhao et al. 2022), mdistiller's CIFAR-100 setting: wrn-40-2 teaches
# wrn-16-2; loss = 1.0 CE + warmup x T^2 (1.0 TCKD + 6.0 NCKD), T = 4, linear
# warm-up over 20 epochs (beta from mdistiller's wrn40_2_wrn_16_2.yaml); 240
# epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. The teacher
# comes from configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_dkd=dict(type='DKDLoss', alpha=1.0, beta=6.0, tau=4,
                      warmup_epochs=20,
                      inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                  gt_labels='gt_labels'))))
