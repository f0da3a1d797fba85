# SRD / SRRL's method part (Yang et al., ICLR 2021): the student's last map
# goes through SRDConnector (1x1 conv + BN + ReLU) into the teacher's space;
# loss = 1.0 CE + MSE of the pooled maps + MSE of the teacher's frozen
# classifier (teacher.head.fc) on the pooled projection vs the teacher's
# logits (the authors' code form, unit weights). mmengine forbids two bases
# that both set `model`, so a pair config lists this file after its pair
# model (../models/distill/*.py), takes the part out of the bases (pop keeps
# the helper key out of the built config) and sets its last-map taps and
# the connector channels:
#   model = _base_.pop('srd_model')
#   model.taps = dict(s_feat='student.backbone.layer3',
#                     t_feat='teacher.backbone.layer3')
#   model.connectors.s_proj.update(in_channels=64, out_channels=64)
srd_model = dict(
    type='SRDDistiller',
    classifier='teacher.head.fc',
    student_loss_weight=1.0,
    connectors=dict(s_proj=dict(type='SRDConnector', input='s_feat')),
    distill_losses=dict(loss_srd=dict(
        type='SoftmaxRegressionLoss', sr_form='mse', fm_weight=1.0,
        sr_weight=1.0,
        inputs=dict(feats_S='s_proj', feats_T='t_feat', preds_T='t_logits',
                    cls_weight='t_cls_weight', cls_bias='t_cls_bias'))))
