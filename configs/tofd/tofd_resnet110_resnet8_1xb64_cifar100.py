# TOFD (Zhang et al., NeurIPS 2020), as DIH's authors ran it as a baseline
# (arXiv 2103.00497): ResNet-110 teaches ResNet-8 on CIFAR-100. Two auxiliary
# branches (TOFDBranch: SepConv stacks + pooling, then a linear classifier)
# on the student's layer1 and layer2, plus the student's own classifier; each
# of the three learns with
#   0.05 ||W f_S - f_T||_2 + CE + softCE(z_S, z_T, T_e)
#   + 0.03 (||W W^T - I||_F + ||W^T W - I||_F)
# from the teacher's pooled feature f_T and logits z_T, W a bias-free linear
# link, T_e = 1 + 3 e / 200 growing with the epoch e (LossEpochHook).
# Schedule: DIH README Table 2 (200 epochs, SGD 0.1 Nesterov, wd 5e-4,
# x0.1 at 60/120/180, batch 64), like DIH (the authors' TOFD script used
# batch 128 and x0.2).
# The teacher comes from configs/cifar_models/resnet110_1xb64-200e_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_200e.py',
    '../_base_/default_runtime.py',
]
_tofd = dict(type='TOFDLoss', s_dim=64, t_dim=64, alpha=0.05, beta=0.03,
             tau=3.0, tau_epochs=200)
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
        s_feat1='student.backbone.layer1',
        s_feat2='student.backbone.layer2',
        s_feat='student.head.fc:input',
        t_feat='teacher.head.fc:input'),
    connectors=dict(
        b1_feat=dict(type='TOFDBranch', channels=(16, 32, 64),
                     input='s_feat1'),
        b1_logits=dict(type='LinearConnector', in_channels=64,
                       out_channels=100, input='b1_feat'),
        b2_feat=dict(type='TOFDBranch', channels=(32, 64), input='s_feat2'),
        b2_logits=dict(type='LinearConnector', in_channels=64,
                       out_channels=100, input='b2_feat')),
    # every classifier's CE is inside its TOFDLoss
    student_loss_weight=0.0,
    distill_losses=dict(
        loss_branch1=dict(
            **_tofd,
            inputs=dict(feats_S='b1_feat', feats_T='t_feat',
                        preds_S='b1_logits', preds_T='t_logits',
                        gt_labels='gt_labels')),
        loss_branch2=dict(
            **_tofd,
            inputs=dict(feats_S='b2_feat', feats_T='t_feat',
                        preds_S='b2_logits', preds_T='t_logits',
                        gt_labels='gt_labels')),
        loss_final=dict(
            **_tofd,
            inputs=dict(feats_S='s_feat', feats_T='t_feat',
                        preds_S='s_logits', preds_T='t_logits',
                        gt_labels='gt_labels'))))
