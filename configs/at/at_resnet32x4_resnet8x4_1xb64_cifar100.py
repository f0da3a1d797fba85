# AT (Zagoruyko & Komodakis 2017), RepDistiller's CIFAR-100 recipe:
# resnet32x4 teaches resnet8x4; loss = 1.0 CE + 1000 x attention-map MSE at
# each stage output (layer1, layer2, layer3), p = 2, no KD term; 240 epochs,
# SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. The teacher comes
# from configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat1='student.backbone.layer1',
        t_feat1='teacher.backbone.layer1',
        s_feat2='student.backbone.layer2',
        t_feat2='teacher.backbone.layer2',
        s_feat3='student.backbone.layer3',
        t_feat3='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_at_1=dict(type='ATLoss', p=2, loss_weight=1000,
                       inputs=dict(feats_S='s_feat1', feats_T='t_feat1')),
        loss_at_2=dict(type='ATLoss', p=2, loss_weight=1000,
                       inputs=dict(feats_S='s_feat2', feats_T='t_feat2')),
        loss_at_3=dict(type='ATLoss', p=2, loss_weight=1000,
                       inputs=dict(feats_S='s_feat3', feats_T='t_feat3'))))
