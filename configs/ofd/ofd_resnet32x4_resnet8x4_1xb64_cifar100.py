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
    '../_base_/methods/ofd.py',
]
model = _base_.pop('ofd_model')
model.taps = dict(
    s_pre1='student.backbone.layer1.0:preact',
    t_pre1='teacher.backbone.layer1.4:preact',
    s_pre2='student.backbone.layer2.0:preact',
    t_pre2='teacher.backbone.layer2.4:preact',
    s_pre3='student.backbone.layer3.0:preact',
    t_pre3='teacher.backbone.layer3.4:preact')
model.margins = dict(
    t_margin1='teacher.backbone.layer1.4.norm2',
    t_margin2='teacher.backbone.layer2.4.norm2',
    t_margin3='teacher.backbone.layer3.4.norm2')
# connector in = out channels of the three stages
for __conn, __ch in zip(model.connectors.values(), (64, 128, 256)):
    __conn.update(in_channels=__ch, out_channels=__ch)
