# ReviewKD's method part (Chen et al., CVPR 2021) for three-stage CIFAR
# pairs: the student's stage outputs (after ReLU) and pooled vector go
# through the review path (ReviewKDFusion, attention-based fusion from the
# deepest level up) and are compared level by level with the teacher's
# pre-ReLU maps and pooled vector by HCL (pooled at 4, 2, 1), with a
# 20-epoch warm-up; 1.0 CE. mmengine forbids two bases that both set
# `model`, so a pair config lists this file after its pair model
# (../models/distill/*.py), takes the part out of the bases (pop keeps the
# helper key out of the built config) and sets its teacher taps, the
# channels of the four levels and the HCL weight:
#   model = _base_.pop('reviewkd_model')
#   model.taps.update(t_pre1=..., t_pre2=..., t_pre3=...)
#   model.connectors.s_review.update(in_channels=[16, 32, 64, 64],
#                                    out_channels=[16, 32, 64, 64])
#   model.distill_losses.loss_review.loss_weight = 1.0
reviewkd_model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_feat1='student.backbone.layer1',
        s_feat2='student.backbone.layer2',
        s_feat3='student.backbone.layer3',
        s_pool='student.head.fc:input',
        t_pool='teacher.head.fc:input'),
    connectors=dict(s_review=dict(
        type='ReviewKDFusion',
        input=['s_feat1', 's_feat2', 's_feat3', 's_pool'])),
    distill_losses=dict(loss_review=dict(
        type='HCLLoss', pool_sizes=(4, 2, 1), warmup_epochs=20,
        inputs=dict(feats_S='s_review',
                    feats_T=['t_pre1', 't_pre2', 't_pre3', 't_pool']))))
