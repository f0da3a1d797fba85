# BYOT (Zhang et al. 2019, "Be Your Own Teacher") on CIFAR-100: a CIFAR
# ResNet-18 (mmpretrain's ResNet_CIFAR) with branches on layer1..layer3,
# taught by its own deepest classifier (configs/_base_/methods/byot.py);
# no teacher. Schedule of the widely used reimplementation: 200 epochs, SGD
# lr 0.1, momentum 0.9, wd 5e-4, lr x0.1 at 60/120/180 (its step schedule),
# batch 128. The exported model is the ResNet-18 alone (branches dropped).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/methods/byot.py',
]
model = _base_.pop('byot_model')
model.update(student=dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=512,
              loss=dict(type='CrossEntropyLoss'))))
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = dict(milestones=[60, 120, 180])
train_cfg = dict(max_epochs=200)
auto_scale_lr = dict(base_batch_size=128)
