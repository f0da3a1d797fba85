# LS's method parts (Sun et al. 2024, logit standardization: the logits are
# Z-scored before the temperature, logit_stand='code'), the official code's
# CIFAR-100 settings: KD + LS is 0.1 CE + 9 x T^2 KL at base temperature
# T = 2; DKD + LS is 1.0 CE + warm-up (20 epochs) x DKD, whose alpha, beta
# and T each pair sets. mmengine forbids two bases that both set `model`,
# so a pair config lists this file after its pair model
# (../models/distill/*.py) and takes its part out of the bases (pop keeps
# the helper key out of the built config):
#   model = _base_.pop('ls_models').kd
# or
#   model = _base_.pop('ls_models').dkd
#   model.distill_losses.loss_dkd.update(alpha=15.0, beta=30.0, tau=2)
ls_models = dict(
    kd=dict(
        student_loss_weight=0.1,
        distill_losses=dict(
            loss_kd=dict(type='KDLoss', tau=2, loss_weight=9,
                         logit_stand='code',
                         inputs=dict(preds_S='s_logits',
                                     preds_T='t_logits')))),
    dkd=dict(
        student_loss_weight=1.0,
        distill_losses=dict(
            loss_dkd=dict(type='DKDLoss', warmup_epochs=20,
                          logit_stand='code',
                          inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                      gt_labels='gt_labels')))))
