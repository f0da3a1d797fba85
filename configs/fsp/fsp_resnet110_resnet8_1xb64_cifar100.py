# FSP (Yim et al. 2017), one-stage form: resnet110 teaches resnet8; loss =
# 1.0 CE + 50 x FSP-matrix MSE for each pair of consecutive features (stem,
# layer1, layer2, layer3; RepDistiller's feat[:-1]), no KD term; 240 epochs,
# SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU. RepDistiller itself
# runs FSP as an init stage then CE:
# pipeline_fsp_resnet110_resnet8_1xb64_cifar100.py. The teacher comes from
# configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet8_cifar100.py',
    '../_base_/methods/fsp.py',
]
model = _base_.pop('fsp_model')
model.student_loss_weight = 1.0
for __loss in model.distill_losses.values():
    __loss.loss_weight = 50
