# FSP's method part (Yim et al. 2017) for ResNet / WRN pairs: the FSP
# matrices of consecutive features (stem, layer1, layer2, layer3;
# RepDistiller's feat[:-1]), no KD term. mmengine forbids two bases that
# both set `model`, so a pair config lists this file after its pair model
# (../models/distill/*.py), takes the part out of the bases (pop keeps the
# helper key out of the built config) and sets the weights:
#   model = _base_.pop('fsp_model')
#   model.student_loss_weight = 1.0
#   for __loss in model.distill_losses.values():
#       __loss.loss_weight = 50
fsp_model = dict(
    taps=dict(
        s_feat0='student.backbone.stem',
        t_feat0='teacher.backbone.stem',
        s_feat1='student.backbone.layer1',
        t_feat1='teacher.backbone.layer1',
        s_feat2='student.backbone.layer2',
        t_feat2='teacher.backbone.layer2',
        s_feat3='student.backbone.layer3',
        t_feat3='teacher.backbone.layer3'),
    distill_losses=dict(
        loss_fsp_1=dict(
            type='FSPLoss',
            inputs=dict(feats_S_a='s_feat0', feats_S_b='s_feat1',
                        feats_T_a='t_feat0', feats_T_b='t_feat1')),
        loss_fsp_2=dict(
            type='FSPLoss',
            inputs=dict(feats_S_a='s_feat1', feats_S_b='s_feat2',
                        feats_T_a='t_feat1', feats_T_b='t_feat2')),
        loss_fsp_3=dict(
            type='FSPLoss',
            inputs=dict(feats_S_a='s_feat2', feats_S_b='s_feat3',
                        feats_T_a='t_feat2', feats_T_b='t_feat3'))))
