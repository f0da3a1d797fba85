# SRD / SRRL (Yang et al., ICLR 2021): vgg13 teaches vgg8. The student's last
# map (block4) goes through SRDConnector (1x1 conv + BN + ReLU) into the
# teacher's space; loss = 1.0 CE + MSE of the pooled maps + MSE of the
# teacher's frozen classifier on the pooled projection vs the teacher's logits
# (the authors' code form, unit weights). RepDistiller's recipe: 240 epochs,
# SGD 0.05, lr x0.1 at 150/180/210, batch 64.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/vgg13_vgg8_cifar100.py',
]
model = dict(
    type='SRDDistiller',
    classifier='teacher.head.fc',
    student_loss_weight=1.0,
    taps=dict(s_feat='student.backbone.block4',
              t_feat='teacher.backbone.block4'),
    connectors=dict(s_proj=dict(type='SRDConnector', in_channels=512,
                                out_channels=512, input='s_feat')),
    distill_losses=dict(loss_srd=dict(
        type='SoftmaxRegressionLoss', sr_form='mse', fm_weight=1.0,
        sr_weight=1.0,
        inputs=dict(feats_S='s_proj', feats_T='t_feat', preds_T='t_logits',
                    cls_weight='t_cls_weight', cls_bias='t_cls_bias'))))
