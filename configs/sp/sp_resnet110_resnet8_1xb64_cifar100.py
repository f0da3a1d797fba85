# SP (Tung & Mori 2019), RepDistiller's CIFAR-100 recipe: resnet110 teaches
# resnet8; loss = 1.0 CE + 3000 x batch-similarity loss on the last stage's
# map (S.layer3, T.layer3), no KD term; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
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
        s_feat='student.backbone.layer3',
        t_feat='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_sp=dict(type='SPLoss', loss_weight=3000,
                     inputs=dict(feats_S='s_feat', feats_T='t_feat'))))
