# MLKD + LS (Sun et al. 2024's mlkd configs, --logit-stand --base-temp 2 --kd-
# weight 9): wrn-40-2 teaches wrn-16-2; 0.1 (CE weak + CE strong) +
# MLKDLoss(tau=2, loss_weight=9, mode='code', logit_stand='code') on a weak
# and a strong view; 480 epochs, SGD 0.025, lr x0.1 at 150/180/210, batch 64
# on one GPU (LS's configs/cifar100/mlkd). The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_weak-strong_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
    '../_base_/methods/mlkd.py',
]
model = _base_.pop('mlkd_model')
model.distill_losses.loss_mlkd.update(tau=2, loss_weight=9,
                                      logit_stand='code')
optim_wrapper = dict(optimizer=dict(lr=0.025))
train_cfg = dict(max_epochs=480)
