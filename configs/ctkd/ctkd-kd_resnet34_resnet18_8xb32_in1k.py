# CTKD (Li et al. 2023) with KD on ImageNet, the official setting
# (scripts/run_imagenet_distill.sh): ResNet-34 teaches ResNet-18; loss = 1.0
# CE + 1.0 tau^2 KL with a learnable global temperature tau = 1 + 20
# sigmoid(t) through a gradient-reversal layer (weight 0 -> 1 by a cosine over
# the first 5 epochs); 120 epochs, SGD 0.1, momentum 0.9, wd 1e-4, lr x0.1 at
# 30/60/90, batch 256 = 8 GPUs x 32. The teacher is mmpretrain's
# resnet34_8xb32_in1k (see ../kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
    '../_base_/methods/ctkd.py',
]
model = _base_.pop('ctkd_model')
# the official ImageNet setting: 1.0 CE + 1.0 KL, a 5-epoch curriculum
model.student_loss_weight = 1.0
model.distill_losses.loss_kd.loss_weight = 1.0
model.distill_losses.loss_kd.temperature.curriculum_epochs = 5
train_cfg = dict(max_epochs=120)
