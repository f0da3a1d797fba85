# AB init stage (Heo et al. 2019), as RepDistiller: vgg13 teaches vgg8; the
# student's feature layers (not its head) train on the activation-boundary
# losses of the pre-ReLU stage outputs, weights 3/1000 x 2^(i - n + 1),
# margin 1, no CE; equal shapes, so no connector (RepDistiller's Connector is
# the identity then); 30 epochs of SGD lr 0.05 (constant), momentum 0.9, wd
# 5e-4. Then CE alone: pipeline_ab_vgg13_vgg8_1xb64_cifar100.py. The teacher
# comes from configs/cifar_models/vgg13_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_const_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/vgg13_vgg8_cifar100.py',
]
model = dict(
    student_loss_weight=0.,
    taps=dict(
        s_pre1='student.backbone.block1.norm1',
        t_pre1='teacher.backbone.block1.norm2',
        s_pre2='student.backbone.block2.norm1',
        t_pre2='teacher.backbone.block2.norm2',
        s_pre3='student.backbone.block3.norm1',
        t_pre3='teacher.backbone.block3.norm2',
        s_pre4='student.backbone.block4.norm1',
        t_pre4='teacher.backbone.block4.norm2'),
    distill_losses=dict(
        loss_ab_1=dict(type='ABLoss', margin=1.0, loss_weight=0.000375,
                       inputs=dict(feats_S='s_pre1', feats_T='t_pre1')),
        loss_ab_2=dict(type='ABLoss', margin=1.0, loss_weight=0.00075,
                       inputs=dict(feats_S='s_pre2', feats_T='t_pre2')),
        loss_ab_3=dict(type='ABLoss', margin=1.0, loss_weight=0.0015,
                       inputs=dict(feats_S='s_pre3', feats_T='t_pre3')),
        loss_ab_4=dict(type='ABLoss', margin=1.0, loss_weight=0.003,
                       inputs=dict(feats_S='s_pre4', feats_T='t_pre4'))))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'student.head': dict(lr_mult=0., decay_mult=0.)}))
