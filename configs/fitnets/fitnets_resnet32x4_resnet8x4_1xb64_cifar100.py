# FitNets (Romero et al. 2015), one-stage form of RepDistiller: resnet32x4
# teaches resnet8x4; loss = 1.0 CE + 100 MSE(r(S.layer2), T.layer2)
# (hint_layer=2), no KD term; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210,
# batch 64 on one GPU. The two-stage form of the paper is
# pipeline_fitnets_resnet32x4_resnet8x4_1xb64_cifar100.py. The teacher comes
# from configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_hint='student.backbone.layer2',
        t_hint='teacher.backbone.layer2'),
    # RepDistiller's ConvReg for maps of equal size: 1x1 conv + BN + ReLU
    connectors=dict(
        s_hint_reg=dict(type='ConvConnector', input='s_hint',
                        in_channels=128, out_channels=128, kernel_size=1,
                        norm_cfg=dict(type='BN'), act=True)),
    distill_losses=dict(
        loss_hint=dict(type='HintLoss', loss_weight=100,
                       inputs=dict(feats_S='s_hint_reg', feats_T='t_hint'))))
