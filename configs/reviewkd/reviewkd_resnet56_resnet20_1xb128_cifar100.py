# ReviewKD (Chen et al., CVPR 2021), the official CIFAR-100 script
# (script/reviewKD.sh, train.py): resnet56 teaches resnet20. Levels: student:
# the stage outputs (after ReLU) and the pooled vector; teacher: the stage
# outputs before their last ReLU (`:preact`) and its pooled vector. Loss = 1.0
# CE + 0.6 x warm-up (20 epochs) x HCL summed over levels. 240 epochs, SGD
# Nesterov lr 0.1, lr x0.1 at 150/180/210, batch 128.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd-nesterov_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet56_resnet20_cifar100.py',
    '../_base_/methods/reviewkd.py',
]
train_dataloader = dict(batch_size=128)
model = _base_.pop('reviewkd_model')
model.taps.update(
    t_pre1='teacher.backbone.layer1.8:preact',
    t_pre2='teacher.backbone.layer2.8:preact',
    t_pre3='teacher.backbone.layer3.8:preact')
# channels of the three stages and the pooled vector
model.connectors.s_review.update(in_channels=[16, 32, 64, 64],
                                 out_channels=[16, 32, 64, 64])
model.distill_losses.loss_review.loss_weight = 0.6
