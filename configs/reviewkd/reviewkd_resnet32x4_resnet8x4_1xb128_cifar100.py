# ReviewKD (Chen et al., CVPR 2021), the official CIFAR-100 script
# (script/reviewKD.sh, train.py): resnet32x4 teaches resnet8x4. Levels:
# student: the stage outputs (after ReLU) and the pooled vector; teacher: the
# stage outputs before their last ReLU (`:preact`) and its pooled vector. Loss
# = 1.0 CE + 5.0 x warm-up (20 epochs) x HCL summed over levels. 240 epochs,
# SGD Nesterov lr 0.1, lr x0.1 at 150/180/210, batch 128.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd-nesterov_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/methods/reviewkd.py',
]
train_dataloader = dict(batch_size=128)
model = _base_.pop('reviewkd_model')
model.taps.update(
    t_pre1='teacher.backbone.layer1.4:preact',
    t_pre2='teacher.backbone.layer2.4:preact',
    t_pre3='teacher.backbone.layer3.4:preact')
# channels of the three stages and the pooled vector
model.connectors.s_review.update(in_channels=[64, 128, 256, 256],
                                 out_channels=[64, 128, 256, 256])
model.distill_losses.loss_review.loss_weight = 5.0
