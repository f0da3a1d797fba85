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
    '../_base_/methods/ofd.py',
]
model = _base_.pop('ofd_model')
model.taps = dict(
    s_pre1='student.backbone.block1.norm1',
    t_pre1='teacher.backbone.block1.norm2',
    s_pre2='student.backbone.block2.norm1',
    t_pre2='teacher.backbone.block2.norm2',
    s_pre3='student.backbone.block3.norm1',
    t_pre3='teacher.backbone.block3.norm2',
    s_pre4='student.backbone.block4.norm1',
    t_pre4='teacher.backbone.block4.norm2')
model.margins = dict(
    t_margin1='teacher.backbone.block1.norm2',
    t_margin2='teacher.backbone.block2.norm2',
    t_margin3='teacher.backbone.block3.norm2',
    t_margin4='teacher.backbone.block4.norm2')
# a fourth stage, wired like the other three
model.connectors.s_feat4 = dict(type='OFDConnector', input='s_pre4')
model.distill_losses.loss_ofd_4 = dict(
    type='OFDLoss', inputs=dict(preds_S='s_feat4', preds_T='t_pre4',
                                margin='t_margin4'))
# connector in = out channels of blocks 1-4; weights 1e-3 / 2^(4-i-1)
for __conn, __ch in zip(model.connectors.values(), (128, 256, 512, 512)):
    __conn.update(in_channels=__ch, out_channels=__ch)
for __loss, __w in zip(model.distill_losses.values(),
                       (0.000125, 0.00025, 0.0005, 0.001)):
    __loss.loss_weight = __w
