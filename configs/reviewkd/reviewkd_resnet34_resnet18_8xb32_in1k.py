# ReviewKD (Chen et al., CVPR 2021) on ImageNet, the official ImageNet code
# (ImageNet/imagenet_amp.py, models/reviewkd.py): ResNet-34 teaches
# ResNet-18; levels: the four stage outputs before their last ReLU
# (`:preact`, for both models, as the official ResNet's features) and the
# pooled vector; review path with 512 mid channels. Loss = 1.0 CE + 1.0 x
# HCL (no warm-up); 100 epochs, SGD 0.1, wd 1e-4, lr x0.1 at 30/60/90,
# batch 256 = 8 GPUs x 32. The teacher is mmpretrain's resnet34_8xb32_in1k
# (configs/kd/README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet34_resnet18_in1k.py',
    '../_base_/methods/reviewkd.py',
]
model = _base_.pop('reviewkd_model')
# four stages, all taken before their last ReLU, and the pooled vectors
model.taps = dict(
    s_feat1='student.backbone.layer1.1:preact',
    s_feat2='student.backbone.layer2.1:preact',
    s_feat3='student.backbone.layer3.1:preact',
    s_feat4='student.backbone.layer4.1:preact',
    s_pool='student.head.fc:input',
    t_pre1='teacher.backbone.layer1.2:preact',
    t_pre2='teacher.backbone.layer2.3:preact',
    t_pre3='teacher.backbone.layer3.5:preact',
    t_pre4='teacher.backbone.layer4.2:preact',
    t_pool='teacher.head.fc:input')
model.connectors.s_review.update(
    in_channels=[64, 128, 256, 512, 512],
    out_channels=[64, 128, 256, 512, 512], mid_channels=512,
    input=['s_feat1', 's_feat2', 's_feat3', 's_feat4', 's_pool'])
model.distill_losses.loss_review.update(
    warmup_epochs=0, loss_weight=1.0,
    inputs=dict(feats_S='s_review',
                feats_T=['t_pre1', 't_pre2', 't_pre3', 't_pre4',
                         't_pool']))
