# FSP init stage (Yim et al. 2017), as RepDistiller: resnet110 teaches
# resnet8; the student's feature layers (not its head) train on the sum of
# the FSP losses of consecutive features (stem, layer1, layer2, layer3),
# weight 1 each, no CE; 30 epochs of SGD lr 0.05 (constant), momentum 0.9, wd
# 5e-4. Then CE alone: pipeline_fsp_resnet110_resnet8_1xb64_cifar100.py. The
# teacher comes from configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_const_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet8_cifar100.py',
]
model = dict(
    student_loss_weight=0.,
    taps=dict(
        s_feat0='student.backbone.stem',
        t_feat0='teacher.backbone.stem',
        s_feat1='student.backbone.layer1',
        t_feat1='teacher.backbone.layer1',
        s_feat2='student.backbone.layer2',
        t_feat2='teacher.backbone.layer2',
        s_feat3='student.backbone.layer3',
        t_feat3='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_fsp_1=dict(
            type='FSPLoss', loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat0', feats_S_b='s_feat1',
                        feats_T_a='t_feat0', feats_T_b='t_feat1')),
        loss_fsp_2=dict(
            type='FSPLoss', loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat1', feats_S_b='s_feat2',
                        feats_T_a='t_feat1', feats_T_b='t_feat2')),
        loss_fsp_3=dict(
            type='FSPLoss', loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat2', feats_S_b='s_feat3',
                        feats_T_a='t_feat2', feats_T_b='t_feat3'))))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'student.head': dict(lr_mult=0., decay_mult=0.)}))
