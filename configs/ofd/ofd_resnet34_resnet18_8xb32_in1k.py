# OFD (Heo et al., ICCV 2019) on ImageNet, the official ImageNet setting
# (clovaai/overhaul-distillation ImageNet/train_with_distillation.py):
# ResNet-34 teaches ResNet-18 (mmpretrain's ResNet, not patched); pre-ReLU
# maps are each stage's last block output before its ReLU (`:preact`),
# margins from that block's bn2. Loss = 1.0 CE + sum_i 1e-4 / 2^(4-i) x
# partial L2 (sum / N); 100 epochs, SGD 0.1, lr x0.1 at 30/60/90, batch 256
# = 8 GPUs x 32. The teacher is mmpretrain's resnet34_8xb32_in1k
# (configs/kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
    '../_base_/methods/ofd.py',
]
model = _base_.pop('ofd_model')
model.taps = dict(
    s_pre1='student.backbone.layer1.1:preact',
    t_pre1='teacher.backbone.layer1.2:preact',
    s_pre2='student.backbone.layer2.1:preact',
    t_pre2='teacher.backbone.layer2.3:preact',
    s_pre3='student.backbone.layer3.1:preact',
    t_pre3='teacher.backbone.layer3.5:preact',
    s_pre4='student.backbone.layer4.1:preact',
    t_pre4='teacher.backbone.layer4.2:preact')
model.margins = dict(
    t_margin1='teacher.backbone.layer1.2.bn2',
    t_margin2='teacher.backbone.layer2.3.bn2',
    t_margin3='teacher.backbone.layer3.5.bn2',
    t_margin4='teacher.backbone.layer4.2.bn2')
# a fourth stage, wired like the other three
model.connectors.s_feat4 = dict(type='OFDConnector', input='s_pre4')
model.distill_losses.loss_ofd_4 = dict(
    type='OFDLoss', inputs=dict(preds_S='s_feat4', preds_T='t_pre4',
                                margin='t_margin4'))
# connector in = out channels of the four stages; weights 1e-4 / 2^(4-i)
for __conn, __ch in zip(model.connectors.values(), (64, 128, 256, 512)):
    __conn.update(in_channels=__ch, out_channels=__ch)
for __loss, __w in zip(model.distill_losses.values(),
                       (1.25e-05, 2.5e-05, 5e-05, 1e-04)):
    __loss.loss_weight = __w
