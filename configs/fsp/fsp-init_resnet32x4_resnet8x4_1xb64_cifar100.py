# FSP init stage (Yim et al. 2017), as RepDistiller: resnet32x4 teaches
# resnet8x4; the student's feature layers (not its head) train on the sum of
# the FSP losses of consecutive features (stem, layer1, layer2, layer3),
# weight 1 each, no CE; 30 epochs of SGD lr 0.05 (constant), momentum 0.9, wd
# 5e-4. Then CE alone: pipeline_fsp_resnet32x4_resnet8x4_1xb64_cifar100.py.
# The teacher comes from configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_const_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
    '../_base_/methods/fsp.py',
]
model = _base_.pop('fsp_model')
model.student_loss_weight = 0.
for __loss in model.distill_losses.values():
    __loss.loss_weight = 1.0
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'student.head': dict(lr_mult=0., decay_mult=0.)}))
