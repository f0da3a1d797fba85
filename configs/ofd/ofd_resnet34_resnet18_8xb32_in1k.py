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
]
model = dict(
    type='OFDDistiller',
    student_loss_weight=1.0,
    taps=dict(
        s_pre1='student.backbone.layer1.1:preact',
        t_pre1='teacher.backbone.layer1.2:preact',
        s_pre2='student.backbone.layer2.1:preact',
        t_pre2='teacher.backbone.layer2.3:preact',
        s_pre3='student.backbone.layer3.1:preact',
        t_pre3='teacher.backbone.layer3.5:preact',
        s_pre4='student.backbone.layer4.1:preact',
        t_pre4='teacher.backbone.layer4.2:preact'),
    margins=dict(
        t_margin1='teacher.backbone.layer1.2.bn2',
        t_margin2='teacher.backbone.layer2.3.bn2',
        t_margin3='teacher.backbone.layer3.5.bn2',
        t_margin4='teacher.backbone.layer4.2.bn2'),
    connectors=dict(
        s_feat1=dict(type='OFDConnector', in_channels=64, out_channels=64,
                     input='s_pre1'),
        s_feat2=dict(type='OFDConnector', in_channels=128, out_channels=128,
                     input='s_pre2'),
        s_feat3=dict(type='OFDConnector', in_channels=256, out_channels=256,
                     input='s_pre3'),
        s_feat4=dict(type='OFDConnector', in_channels=512, out_channels=512,
                     input='s_pre4')),
    distill_losses=dict(
        loss_ofd_1=dict(type='OFDLoss', loss_weight=1.25e-05,
                        inputs=dict(preds_S='s_feat1', preds_T='t_pre1',
                                    margin='t_margin1')),
        loss_ofd_2=dict(type='OFDLoss', loss_weight=2.5e-05,
                        inputs=dict(preds_S='s_feat2', preds_T='t_pre2',
                                    margin='t_margin2')),
        loss_ofd_3=dict(type='OFDLoss', loss_weight=5e-05,
                        inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                                    margin='t_margin3')),
        loss_ofd_4=dict(type='OFDLoss', loss_weight=1e-04,
                        inputs=dict(preds_S='s_feat4', preds_T='t_pre4',
                                    margin='t_margin4'))))
