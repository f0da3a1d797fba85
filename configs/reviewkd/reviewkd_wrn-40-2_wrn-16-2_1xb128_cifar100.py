# ReviewKD (Chen et al., CVPR 2021), the official CIFAR-100 script
# (script/reviewKD.sh, train.py): wrn-40-2 teaches wrn-16-2. Levels: student:
# the stage outputs (layer3.1, before WRN's final BN) and the pooled vector;
# teacher: the same levels before their ReLU (the BN before the next ReLU:
# layer2.0.norm1, layer3.0.norm1, layer3.norm) and its pooled vector. Loss =
# 1.0 CE + 5.0 x warm-up (20 epochs) x HCL summed over levels. 240 epochs, SGD
# Nesterov lr 0.1, lr x0.1 at 150/180/210, batch 128.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd-nesterov_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
    '../_base_/methods/reviewkd.py',
]
train_dataloader = dict(batch_size=128)
model = _base_.pop('reviewkd_model')
model.taps.update(
    s_feat3='student.backbone.layer3.1',
    t_pre1='teacher.backbone.layer2.0.norm1',
    t_pre2='teacher.backbone.layer3.0.norm1',
    t_pre3='teacher.backbone.layer3.norm')
# channels of the three stages and the pooled vector
model.connectors.s_review.update(in_channels=[32, 64, 128, 128],
                                 out_channels=[32, 64, 128, 128])
model.distill_losses.loss_review.loss_weight = 5.0
