# FSP (Yim et al. 2017), one-stage form: resnet110 teaches resnet8; loss =
# 1.0 CE + 50 x FSP-matrix MSE for each pair of consecutive features (stem,
# layer1, layer2, layer3; RepDistiller's feat[:-1]), no KD term; 240 epochs,
# SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. RepDistiller itself
# runs FSP as an init stage then CE:
# pipeline_fsp_resnet110_resnet8_1xb64_cifar100.py. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet8_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
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
            type='FSPLoss', loss_weight=50,
            inputs=dict(feats_S_a='s_feat0', feats_S_b='s_feat1',
                        feats_T_a='t_feat0', feats_T_b='t_feat1')),
        loss_fsp_2=dict(
            type='FSPLoss', loss_weight=50,
            inputs=dict(feats_S_a='s_feat1', feats_S_b='s_feat2',
                        feats_T_a='t_feat1', feats_T_b='t_feat2')),
        loss_fsp_3=dict(
            type='FSPLoss', loss_weight=50,
            inputs=dict(feats_S_a='s_feat2', feats_S_b='s_feat3',
                        feats_T_a='t_feat2', feats_T_b='t_feat3'))))
