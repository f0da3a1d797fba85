# DKD (Zhao et al. 2022) on ImageNet, mdistiller's setting (configs/imagenet/
# r34_r18/dkd.yaml): ResNet-34 teaches ResNet-18; loss = 1.0 CE + warmup x
# T^2 (1.0 TCKD + 0.5 NCKD), T = 1, warm-up over 1 epoch; 100 epochs, SGD 0.1,
# momentum 0.9, wd 1e-4, lr x0.1 at 30/60/90, batch 256 = 8 GPUs x 32
# (mdistiller: batch 512 with lr 0.2, the same ratio).
# The teacher is mmpretrain's resnet34_8xb32_in1k (see ../kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
]
model = dict(
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_dkd=dict(type='DKDLoss', alpha=1.0, beta=0.5, tau=1,
                      warmup_epochs=1,
                      inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                  gt_labels='gt_labels'))))
