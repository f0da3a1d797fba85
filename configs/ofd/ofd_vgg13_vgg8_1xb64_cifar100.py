# OFD (Heo et al., ICCV 2019), mdistiller's CIFAR-100 setting: vgg13 teaches
# vgg8; pre-ReLU maps are the last BN of blocks 1-4, margins from the teacher's
# same BN layers. Loss = 1.0 CE + sum_i 1e-3 / 2^(n-i-1) x partial L2 (sum / N)
# of the connector (1x1 conv + BN) output against max(teacher, margin). 240
# epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 (RepDistiller).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/vgg13_vgg8_cifar100.py',
]
model = dict(
    type='OFDDistiller',
    student_loss_weight=1.0,
    taps=dict(
        s_pre1='student.backbone.block1.norm1',
        t_pre1='teacher.backbone.block1.norm2',
        s_pre2='student.backbone.block2.norm1',
        t_pre2='teacher.backbone.block2.norm2',
        s_pre3='student.backbone.block3.norm1',
        t_pre3='teacher.backbone.block3.norm2',
        s_pre4='student.backbone.block4.norm1',
        t_pre4='teacher.backbone.block4.norm2'),
    margins=dict(
        t_margin1='teacher.backbone.block1.norm2',
        t_margin2='teacher.backbone.block2.norm2',
        t_margin3='teacher.backbone.block3.norm2',
        t_margin4='teacher.backbone.block4.norm2'),
    connectors=dict(
        s_feat1=dict(type='OFDConnector', in_channels=128, out_channels=128,
                     input='s_pre1'),
        s_feat2=dict(type='OFDConnector', in_channels=256, out_channels=256,
                     input='s_pre2'),
        s_feat3=dict(type='OFDConnector', in_channels=512, out_channels=512,
                     input='s_pre3'),
        s_feat4=dict(type='OFDConnector', in_channels=512, out_channels=512,
                     input='s_pre4')),
    distill_losses=dict(
        loss_ofd_1=dict(type='OFDLoss', loss_weight=0.000125,
                        inputs=dict(preds_S='s_feat1', preds_T='t_pre1',
                                    margin='t_margin1')),
        loss_ofd_2=dict(type='OFDLoss', loss_weight=0.00025,
                        inputs=dict(preds_S='s_feat2', preds_T='t_pre2',
                                    margin='t_margin2')),
        loss_ofd_3=dict(type='OFDLoss', loss_weight=0.0005,
                        inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                                    margin='t_margin3')),
        loss_ofd_4=dict(type='OFDLoss', loss_weight=0.001,
                        inputs=dict(preds_S='s_feat4', preds_T='t_pre4',
                                    margin='t_margin4'))))
