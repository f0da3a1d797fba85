# DisWOT+ (Dong et al., CVPR 2023, methods.md 1.4), RepDistiller's CIFAR-100
# recipe: resnet56 teaches resnet20 (or a searched student: replace
# model.student with the `config` of a candidate from candidates.jsonl);
# loss = 0.1 CE + 0.9 KL (T = 4) + L_Ms + L_Mr on the last stage's map
# (pre-pooling, S.layer3 / T.layer3). DisWOT without "+" is CE + KL, i.e.
# configs/kd/kd_resnet56_resnet20_1xb64_cifar100.py. The weights of L_Ms and
# L_Mr (beta) are not in our notes of the paper: 1.0 here.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet56_resnet20_cifar100.py',
]
model = dict(
    student_loss_weight=0.1,
    taps=dict(
        s_feat='student.backbone.layer3',
        t_feat='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits')),
        loss_ms=dict(type='DisWOTSemanticLoss', loss_weight=1.0,
                     inputs=dict(feats_S='s_feat', feats_T='t_feat')),
        loss_mr=dict(type='DisWOTRelationLoss', loss_weight=1.0,
                     inputs=dict(feats_S='s_feat', feats_T='t_feat'))))
