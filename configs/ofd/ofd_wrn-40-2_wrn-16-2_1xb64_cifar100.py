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
    '../_base_/methods/ofd.py',
]
model = _base_.pop('ofd_model')
model.taps = dict(
    s_pre1='student.backbone.layer2.0.norm1',
    t_pre1='teacher.backbone.layer2.0.norm1',
    s_pre2='student.backbone.layer3.0.norm1',
    t_pre2='teacher.backbone.layer3.0.norm1',
    s_pre3='student.backbone.layer3.norm',
    t_pre3='teacher.backbone.layer3.norm')
model.margins = dict(
    t_margin1='teacher.backbone.layer2.0.norm1',
    t_margin2='teacher.backbone.layer3.0.norm1',
    t_margin3='teacher.backbone.layer3.norm')
# connector in = out channels of the three pre-ReLU maps
for __conn, __ch in zip(model.connectors.values(), (32, 64, 128)):
    __conn.update(in_channels=__ch, out_channels=__ch)
