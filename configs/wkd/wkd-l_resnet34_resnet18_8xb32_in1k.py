# WKD-L (Lv et al. 2024) on ImageNet, the official setting
# (configs/imagenet/r34_r18/wkd_l.yaml): ResNet-34 teaches ResNet-18; loss =
# 1.0 CE + WKDLogitLoss with gamma 30 (cosine-decayed to 0 over the whole
# run), T = 2, Sinkhorn reg 0.05, 10 iterations, the teacher's linear-CKA
# class cost (the official file, see README.md); 100 epochs, SGD 0.1, wd
# 1e-4, lr x0.1 at 30/60/90, batch 256 = 8 x 32 (official: 512, lr 0.2).
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
        loss_wkd=dict(
            type='WKDLogitLoss', tau=2., loss_weight=30., sharpen=1.,
            reg=0.05, iters=10, decay_start_epoch=0, max_epochs=100,
            cost_matrix='checkpoints/wkd_cost_matrix/imagenet/ResNet34/'
            'logit_linear_cka.pth',
            inputs=dict(preds_S='s_logits', preds_T='t_logits',
                        gt_labels='gt_labels'))))
