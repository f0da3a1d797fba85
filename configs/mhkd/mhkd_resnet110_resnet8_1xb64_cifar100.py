# MHKD (Wang et al. 2020), as DIH's authors ran it as a baseline (arXiv
# 2103.00497): ResNet-110 teaches ResNet-8 on CIFAR-100. MHKDHead classifiers
# (conv3x3-BN-ReLU x2, pooling, two linear layers) sit on each stage of both
# networks; the teacher's heads learn with CE on the frozen teacher's
# features while the student learns:
#   L = 0.9 CE(z_S, y) + 0.1 * 4^2 KL(z_T || z_S)                 (final KD)
#     + sum_j [CE(z_T^j, y) + 0.5 (0.9 CE(z_S^j, y)
#                                  + 0.1 * 4^2 KL(z_T^j || z_S^j))]
# (alpha 0.1, beta 0.5, T 4). Schedule: DIH README Table 2 (200 epochs, SGD
# 0.1 Nesterov, wd 5e-4, x0.1 at 60/120/180, batch 64), like DIH.
# The teacher comes from configs/cifar_models/resnet110_1xb64-200e_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=110),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/resnet110_1xb64-200e_cifar100/epoch_200.pth',
    taps=dict(
        t_feat1='teacher.backbone.layer1',
        t_feat2='teacher.backbone.layer2',
        t_feat3='teacher.backbone.layer3',
        s_feat1='student.backbone.layer1',
        s_feat2='student.backbone.layer2',
        s_feat3='student.backbone.layer3'),
    # teacher heads train (the teacher's taps carry no gradient)
    connectors=dict(
        t_head1=dict(type='MHKDHead', in_channels=16, num_classes=100,
                     input='t_feat1'),
        t_head2=dict(type='MHKDHead', in_channels=32, num_classes=100,
                     input='t_feat2'),
        t_head3=dict(type='MHKDHead', in_channels=64, num_classes=100,
                     input='t_feat3'),
        s_head1=dict(type='MHKDHead', in_channels=16, num_classes=100,
                     input='s_feat1'),
        s_head2=dict(type='MHKDHead', in_channels=32, num_classes=100,
                     input='s_feat2'),
        s_head3=dict(type='MHKDHead', in_channels=64, num_classes=100,
                     input='s_feat3')),
    student_loss_weight=0.9,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.1,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits')),
        loss_head1=dict(type='MHKDHeadLoss', alpha=0.1, beta=0.5, tau=4,
                        inputs=dict(preds_S='s_head1', preds_T='t_head1',
                                    gt_labels='gt_labels')),
        loss_head2=dict(type='MHKDHeadLoss', alpha=0.1, beta=0.5, tau=4,
                        inputs=dict(preds_S='s_head2', preds_T='t_head2',
                                    gt_labels='gt_labels')),
        loss_head3=dict(type='MHKDHeadLoss', alpha=0.1, beta=0.5, tau=4,
                        inputs=dict(preds_S='s_head3', preds_T='t_head3',
                                    gt_labels='gt_labels'))))
