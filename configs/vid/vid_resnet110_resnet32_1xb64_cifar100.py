# VID (Ahn et al. 2019), RepDistiller's CIFAR-100 recipe: resnet110 teaches
# resnet32; loss = 1.0 CE + 1.0 x Gaussian NLL of the teacher map at each
# stage output (layer1, layer2, layer3), regressor 1x1 convs with
# teacher-width hidden layers, no KD term; 240 epochs, SGD 0.05, lr x0.1 at
# 150/180/210, batch 64 on one GPU. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet32_cifar100.py',
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
        loss_vid_1=dict(type='VIDLoss', in_channels=16,
                        mid_channels=16, out_channels=16,
                        loss_weight=1.0,
                        inputs=dict(feats_S='s_feat1', feats_T='t_feat1')),
        loss_vid_2=dict(type='VIDLoss', in_channels=32,
                        mid_channels=32, out_channels=32,
                        loss_weight=1.0,
                        inputs=dict(feats_S='s_feat2', feats_T='t_feat2')),
        loss_vid_3=dict(type='VIDLoss', in_channels=64,
                        mid_channels=64, out_channels=64,
                        loss_weight=1.0,
                        inputs=dict(feats_S='s_feat3', feats_T='t_feat3'))))
