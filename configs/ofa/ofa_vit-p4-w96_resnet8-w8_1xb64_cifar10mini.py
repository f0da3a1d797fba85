# OFA-KD from the small ViT teacher
# (configs/cakd/vit-p4-w96_1xb64_cifar10mini.py) into the quickstart student (CIFAR ResNet-8, widths 8/16/32) on the
# bundled CIFAR-10 subset: the "OFA-KD" row of benchmarks/cakd_cifar10.py.
# Branches: layer1 (8 ch) through 2 SepConvs, layer2 (16) through 1, layer3
# (32) through a 1x1 conv, all to max(32, 96) = 96 channels and 10 classes;
# loss = 1.0 CE + OFALoss(eps=1, the official train.py default) on each
# branch and on the student's logits. The student's schedule (SGD 0.1
# Nesterov, cosine) as the other rows.
_base_ = ['../cakd/kd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py']
_ofa = dict(type='OFALoss', eps=1.0)
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_stage1='student.backbone.layer1',
        s_stage2='student.backbone.layer2',
        s_stage3='student.backbone.layer3'),
    connectors=dict(
        s_branch1=dict(type='OFABranch', in_channels=8, out_channels=96,
                       num_classes=10, num_downsample=2, input='s_stage1'),
        s_branch2=dict(type='OFABranch', in_channels=16, out_channels=96,
                       num_classes=10, num_downsample=1, input='s_stage2'),
        s_branch3=dict(type='OFABranch', in_channels=32, out_channels=96,
                       num_classes=10, num_downsample=0, input='s_stage3')),
    distill_losses=dict(
        _delete_=True,
        loss_ofa_1=dict(**_ofa, inputs=dict(
            preds_S='s_branch1', preds_T='t_logits', gt_labels='gt_labels')),
        loss_ofa_2=dict(**_ofa, inputs=dict(
            preds_S='s_branch2', preds_T='t_logits', gt_labels='gt_labels')),
        loss_ofa_3=dict(**_ofa, inputs=dict(
            preds_S='s_branch3', preds_T='t_logits', gt_labels='gt_labels')),
        loss_ofa_kd=dict(**_ofa, inputs=dict(
            preds_S='s_logits', preds_T='t_logits', gt_labels='gt_labels'))))
