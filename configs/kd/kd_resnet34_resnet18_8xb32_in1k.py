# KD (Hinton et al. 2015) on ImageNet, mdistiller's setting (configs/imagenet/
# r34_r18/kd.yaml): ResNet-34 teaches ResNet-18; loss = 0.5 CE + 0.5 T^2 KL,
# T = 1; 100 epochs, SGD 0.1, momentum 0.9, wd 1e-4, lr x0.1 at 30/60/90,
# batch 256 = 8 GPUs x 32 (mdistiller: batch 512 with lr 0.2, the same ratio).
# The teacher is mmpretrain's resnet34_8xb32_in1k (see README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
]
model = dict(
    student_loss_weight=0.5,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=1, loss_weight=0.5,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
