# FT stage 1 (Kim et al. 2018), as RepDistiller: pre-train the paraphraser, a
# conv autoencoder, to reconstruct wrn-40-2's last-stage map (T.layer3.5, 128
# channels; factor 64 channels); MSE only, the student is not trained here.
# 30 epochs of SGD, lr 0.01 (RepDistiller's value for ResNet and WRN
# students), constant, momentum 0.9, wd 5e-4. Stage 2:
# ft_wrn-40-2_wrn-16-2_1xb64_cifar100.py via
# pipeline_ft_wrn-40-2_wrn-16-2_1xb64_cifar100.py. The teacher comes from
# configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_const_30e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/wrn-40-2_wrn-16-2_cifar100.py',
]
model = dict(
    student_loss_weight=0.,
    taps=dict(t_feat='teacher.backbone.layer3.5'),
    connectors=dict(
        paraphraser=dict(type='Paraphraser', input='t_feat', in_channels=128,
                         rate=0.5, output='reconstruction')),
    distill_losses=dict(
        loss_recon=dict(type='ParaphraserReconstructionLoss',
                        inputs=dict(recon='paraphraser', target='t_feat'))))
optim_wrapper = dict(
    optimizer=dict(lr=0.01),
    paramwise_cfg=dict(custom_keys={
        'student': dict(lr_mult=0., decay_mult=0.)}))
