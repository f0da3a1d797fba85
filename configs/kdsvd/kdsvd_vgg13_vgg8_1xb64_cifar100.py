# KD-SVD (Lee et al. 2018), mdistiller's CIFAR-100 setting: vgg13 teaches
# vgg8; loss = 1.0 CE + 1.0 x KD-SVD (k = 1, mdistiller's SVD form) for each
# pair of consecutive stage outputs (block1, block2, block3, block4), no KD
# term; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU.
# The teacher comes from configs/cifar_models/vgg13_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/vgg13_vgg8_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat1='student.backbone.block1',
        t_feat1='teacher.backbone.block1',
        s_feat2='student.backbone.block2',
        t_feat2='teacher.backbone.block2',
        s_feat3='student.backbone.block3',
        t_feat3='teacher.backbone.block3',
        s_feat4='student.backbone.block4',
        t_feat4='teacher.backbone.block4'),
    distill_losses=dict(
        loss_kdsvd_1=dict(
            type='KDSVDLoss', k=1, loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat1', feats_S_b='s_feat2',
                        feats_T_a='t_feat1', feats_T_b='t_feat2')),
        loss_kdsvd_2=dict(
            type='KDSVDLoss', k=1, loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat2', feats_S_b='s_feat3',
                        feats_T_a='t_feat2', feats_T_b='t_feat3')),
        loss_kdsvd_3=dict(
            type='KDSVDLoss', k=1, loss_weight=1.0,
            inputs=dict(feats_S_a='s_feat3', feats_S_b='s_feat4',
                        feats_T_a='t_feat3', feats_T_b='t_feat4'))))
