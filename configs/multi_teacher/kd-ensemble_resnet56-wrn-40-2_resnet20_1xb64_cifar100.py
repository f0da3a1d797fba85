# Multi-teacher KD from the ensemble: ResNet-20 learns from the average of
# the ResNet-56 and WRN-40-2 logits (t_logits_mean): loss = 0.1 CE + 0.9 KD,
# T = 4 (RepDistiller's KD weights; no published recipe); otherwise as the
# per-teacher config it extends.
_base_ = ['kd-per-teacher_resnet56-wrn-40-2_resnet20_1xb64_cifar100.py']
model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                     inputs=dict(preds_S='s_logits',
                                 preds_T='t_logits_mean'))))
