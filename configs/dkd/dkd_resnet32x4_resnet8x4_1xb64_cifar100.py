# DKD (Zhao et al. 2022), mdistiller's CIFAR-100 setting: resnet32x4 teaches
# resnet8x4; loss = 1.0 CE + warmup x T^2 (1.0 TCKD + 8.0 NCKD), T = 4,
# linear warm-up over 20 epochs (beta from mdistiller's res32x4_res8x4.yaml
# (its default)); 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on
# one GPU. The teacher comes from
# configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_dkd=dict(type='DKDLoss', alpha=1.0, beta=8.0, tau=4,
                      warmup_epochs=20,
                      inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                  gt_labels='gt_labels'))))
