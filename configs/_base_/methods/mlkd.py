# MLKD's method part (Jin et al. 2023), the official code's CIFAR-100
# setting: an MLKDDistiller with 0.1 (CE weak + CE strong) +
# MLKDLoss(tau=4, loss_weight=0.9, mode='code') on the weak and strong
# views' logits (the dataset base gives both views). mmengine forbids two
# bases that both set `model`, so a pair config lists this file after its
# pair model (../models/distill/*.py) and takes the part out of the bases
# (pop keeps the helper key out of the built config); an MLKD + LS config
# then sets its loss:
#   model = _base_.pop('mlkd_model')
#   model.distill_losses.loss_mlkd.update(tau=2, loss_weight=9,
#                                         logit_stand='code')
mlkd_model = dict(
    type='MLKDDistiller',
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_mlkd=dict(type='MLKDLoss', tau=4, loss_weight=0.9, mode='code',
                       inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                   preds_S_strong='s_logits_strong',
                                   preds_T_strong='t_logits_strong'))))
