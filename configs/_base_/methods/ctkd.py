# CTKD's method part (Li et al. 2023) with KD, the official CIFAR-100
# setting: 0.1 CE + 0.9 tau^2 KL with a learnable global temperature
# tau = 1 + 20 sigmoid(t) (GlobalTemperature), trained through a
# gradient-reversal layer whose weight rises 0 -> 1 by a cosine over the
# first 10 epochs. mmengine forbids two bases that both set `model`, so a
# pair config lists this file after its pair model (../models/distill/*.py)
# and takes the part out of the bases (pop keeps the helper key out of the
# built config); a CTKD + LS config then sets its loss:
#   model = _base_.pop('ctkd_model')
#   model.distill_losses.loss_kd.update(loss_weight=9, logit_stand='code')
ctkd_model = dict(
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', loss_weight=0.9,
                     temperature=dict(type='GlobalTemperature'),
                     inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
