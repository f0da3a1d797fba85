# OFD (Heo et al., ICCV 2019), mdistiller's CIFAR-100 setting: wrn-40-2 teaches
# wrn-16-2; pre-ReLU maps are the BN outputs before each stage's first ReLU
# (WRN blocks are pre-activation: layer2.0.norm1, layer3.0.norm1, layer3.norm),
# margins from those same BN layers. Loss = 1.0 CE + sum_i 1e-3 / 2^(n-i-1) x
# partial L2 (sum / N) of the connector (1x1 conv + BN) output against
# max(teacher, margin). 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64
# (RepDistiller).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
]
model = dict(
    type='OFDDistiller',
    student_loss_weight=1.0,
    taps=dict(
        s_pre1='student.backbone.layer2.0.norm1',
        t_pre1='teacher.backbone.layer2.0.norm1',
        s_pre2='student.backbone.layer3.0.norm1',
        t_pre2='teacher.backbone.layer3.0.norm1',
        s_pre3='student.backbone.layer3.norm',
        t_pre3='teacher.backbone.layer3.norm'),
    margins=dict(
        t_margin1='teacher.backbone.layer2.0.norm1',
        t_margin2='teacher.backbone.layer3.0.norm1',
        t_margin3='teacher.backbone.layer3.norm'),
    connectors=dict(
        s_feat1=dict(type='OFDConnector', in_channels=32, out_channels=32,
                     input='s_pre1'),
        s_feat2=dict(type='OFDConnector', in_channels=64, out_channels=64,
                     input='s_pre2'),
        s_feat3=dict(type='OFDConnector', in_channels=128, out_channels=128,
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
