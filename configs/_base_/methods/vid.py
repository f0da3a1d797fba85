# VID's method part (Ahn et al. 2019) for ResNet / WRN pairs: 1.0 CE +
# 1.0 x Gaussian NLL of the teacher map at each stage output (layer1,
# layer2, layer3), no KD term. mmengine forbids two bases that both set
# `model`, so a pair config lists this file after its pair model
# (../models/distill/*.py), takes the part out of the bases (pop keeps the
# helper key out of the built config) and sets the regressor channels:
#   model = _base_.pop('vid_model')
#   for __loss, __ch in zip(model.distill_losses.values(), (16, 32, 64)):
#       __loss.update(in_channels=__ch, mid_channels=__ch, out_channels=__ch)
vid_model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat1='student.backbone.layer1',
        t_feat1='teacher.backbone.layer1',
        s_feat2='student.backbone.layer2',
        t_feat2='teacher.backbone.layer2',
        s_feat3='student.backbone.layer3',
        t_feat3='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_vid_1=dict(type='VIDLoss', loss_weight=1.0,
                        inputs=dict(feats_S='s_feat1', feats_T='t_feat1')),
        loss_vid_2=dict(type='VIDLoss', loss_weight=1.0,
                        inputs=dict(feats_S='s_feat2', feats_T='t_feat2')),
        loss_vid_3=dict(type='VIDLoss', loss_weight=1.0,
                        inputs=dict(feats_S='s_feat3', feats_T='t_feat3'))))
