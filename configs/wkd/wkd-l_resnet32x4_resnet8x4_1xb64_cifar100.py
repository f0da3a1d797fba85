# WKD-L (Lv et al. 2024), the official CIFAR-100 setting
# (configs/cifar100/wkd_l/res32x4_res8x4.yaml): resnet32x4 teaches resnet8x4;
# loss = 1.0 CE + WKDLogitLoss: the target-class term plus 600 x the
# Sinkhorn Wasserstein distance (reg 0.05, 10 iterations) between the
# non-target distributions at T = 8, under the teacher's linear-CKA class
# cost (sharpened 1 - exp(-C)); the 600 decays by a cosine from epoch 150 to
# 0 at 240; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64. The cost
# matrix is the official repository's file (see README.md); the teacher
# comes from configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_wkd=dict(
            type='WKDLogitLoss', tau=8., loss_weight=600., sharpen=1.,
            reg=0.05, iters=10, decay_start_epoch=150, max_epochs=240,
            cost_matrix='checkpoints/wkd_cost_matrix/cifar100/resnet32x4/'
            'linear_cka.pth',
            inputs=dict(preds_S='s_logits', preds_T='t_logits',
                        gt_labels='gt_labels'))))
