# OFA-KD's method part (Hao et al., NeurIPS 2023) for three-stage CIFAR
# students: each stage (layer1-3) gets an OFABranch into the logit space
# (2, 1 and 0 SepConvs, then pooling and a Linear to the classes); loss =
# 1.0 CE + OFALoss(eps=1, the official train.py default) on each branch and
# on the student's logits. mmengine forbids two bases that both set
# `model`, so a pair config lists this file after its pair model, takes the
# part out of the bases (pop keeps the helper key out of the built config)
# and sets the branch channels and classes:
#   model = _base_.pop('ofa_model')
#   for __branch, __ch in zip(model.connectors.values(), (64, 128, 256)):
#       __branch.update(in_channels=__ch, out_channels=256, num_classes=100)
# A four-stage student adds a layer4 tap, branch and loss the same way
# (configs/ofa/ofa_deit-t_resnet18_8xb64_in1k.py).
ofa_model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_stage1='student.backbone.layer1',
        s_stage2='student.backbone.layer2',
        s_stage3='student.backbone.layer3'),
    connectors=dict(
        s_branch1=dict(type='OFABranch', num_downsample=2, input='s_stage1'),
        s_branch2=dict(type='OFABranch', num_downsample=1, input='s_stage2'),
        s_branch3=dict(type='OFABranch', num_downsample=0, input='s_stage3')),
    distill_losses=dict(
        loss_ofa_1=dict(type='OFALoss', eps=1.0,
                        inputs=dict(preds_S='s_branch1', preds_T='t_logits',
                                    gt_labels='gt_labels')),
        loss_ofa_2=dict(type='OFALoss', eps=1.0,
                        inputs=dict(preds_S='s_branch2', preds_T='t_logits',
                                    gt_labels='gt_labels')),
        loss_ofa_3=dict(type='OFALoss', eps=1.0,
                        inputs=dict(preds_S='s_branch3', preds_T='t_logits',
                                    gt_labels='gt_labels')),
        loss_ofa_kd=dict(type='OFALoss', eps=1.0,
                         inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                     gt_labels='gt_labels'))))
