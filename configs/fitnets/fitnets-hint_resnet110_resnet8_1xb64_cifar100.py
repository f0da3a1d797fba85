# FitNets stage 1 (Romero et al. 2015): train resnet8 up to its guided layer
# (layer2) to regress resnet110's hint layer (layer2) through the regressor,
# L2 only; 40 epochs of SGD lr 0.1, Nesterov momentum 0.9, wd 5e-4 (DIH's
# FitNets baseline). The layers after the guided one and the head get lr 0
# and no weight decay. Stage 2 (KD on the whole student):
# pipeline_fitnets_resnet110_resnet8_1xb64_cifar100.py. The teacher comes
# from configs/cifar_models/resnet110_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd-nesterov_const_40e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet110_resnet8_cifar100.py',
]
model = dict(
    student_loss_weight=0.,
    taps=dict(
        s_hint='student.backbone.layer2',
        t_hint='teacher.backbone.layer2'),
    # RepDistiller's ConvReg for maps of equal size: 1x1 conv + BN + ReLU
    connectors=dict(
        s_hint_reg=dict(type='ConvConnector', input='s_hint',
                        in_channels=32, out_channels=32, kernel_size=1,
                        norm_cfg=dict(type='BN'), act=True)),
    distill_losses=dict(
        loss_hint=dict(type='HintLoss', loss_weight=1.0,
                       inputs=dict(feats_S='s_hint_reg', feats_T='t_hint'))))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'student.backbone.layer3': dict(lr_mult=0., decay_mult=0.),
    'student.head': dict(lr_mult=0., decay_mult=0.),
}))
