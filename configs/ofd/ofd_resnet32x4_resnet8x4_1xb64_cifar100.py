# OFD (Heo et al., ICCV 2019), mdistiller's CIFAR-100 setting: resnet32x4
# teaches resnet8x4; pre-ReLU maps are each stage's last block output before
# its ReLU (`:preact`), margins from that block's norm2 (the official
# get_bn_before_relu; the shortcut is left out of the margin). Loss = 1.0 CE +
# sum_i 1e-3 / 2^(n-i-1) x partial L2 (sum / N) of the connector (1x1 conv +
# BN) output against max(teacher, margin). 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 (RepDistiller).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    type='OFDDistiller',
    student_loss_weight=1.0,
    taps=dict(
        s_pre1='student.backbone.layer1.0:preact',
        t_pre1='teacher.backbone.layer1.4:preact',
        s_pre2='student.backbone.layer2.0:preact',
        t_pre2='teacher.backbone.layer2.4:preact',
        s_pre3='student.backbone.layer3.0:preact',
        t_pre3='teacher.backbone.layer3.4:preact'),
    margins=dict(
        t_margin1='teacher.backbone.layer1.4.norm2',
        t_margin2='teacher.backbone.layer2.4.norm2',
        t_margin3='teacher.backbone.layer3.4.norm2'),
    connectors=dict(
        s_feat1=dict(type='OFDConnector', in_channels=64, out_channels=64,
                     input='s_pre1'),
        s_feat2=dict(type='OFDConnector', in_channels=128, out_channels=128,
                     input='s_pre2'),
        s_feat3=dict(type='OFDConnector', in_channels=256, out_channels=256,
                     input='s_pre3')),
    distill_losses=dict(
        loss_ofd_1=dict(type='OFDLoss', loss_weight=0.00025,
                        inputs=dict(preds_S='s_feat1', preds_T='t_pre1',
                                    margin='t_margin1')),
        loss_ofd_2=dict(type='OFDLoss', loss_weight=0.0005,
                        inputs=dict(preds_S='s_feat2', preds_T='t_pre2',
                                    margin='t_margin2')),
        loss_ofd_3=dict(type='OFDLoss', loss_weight=0.001,
                        inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                                    margin='t_margin3'))))
