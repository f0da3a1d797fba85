# CAKD (Liu et al., ACCV 2022), the released-code form, on CIFAR-100: a
# DeiT-Tiny-sized ViT with 4x4 patches (8x8 grid, 192 dims, 3 heads; from
# configs/cifar_models/deit-t-p4_1xb64-200e_cifar100.py) teaches ResNet-8x4
# (CIFARResNet depth 8, widths 32-64-128-256). The student's layer3 map
# (256 x 8 x 8, the teacher's grid) goes through the PCA projector (bias-free
# Linear 256 -> 3 x 256, 4 heads of 64; head-averaged Q K^T / 8 and V V^T / 8
# matched by MSE, weights 0.2 and 0.05) and the GL projector (4x4 windows,
# 16 Linears 256 -> 192, MSE to the teacher's patch tokens, weight 0.05).
# Total: CE + w(epoch) * (CAKD terms + adversarial term), w ramped 0 -> 0.2
# over epochs 25-75. The discriminator's gradient reaches the student
# (detach_adversarial=False; True is the release's detached form).
# RepDistiller's 240-epoch SGD schedule for the student. With several
# processes (tools/dist_train.sh) KDRunner wraps the model in
# TrainStepDataParallel, which runs CAKDDistiller.train_step (student step,
# then discriminator step) and averages both optimizers' gradients.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='CAKDDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8, widths=(32, 64, 128, 256)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny',
                      img_size=32, patch_size=4),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=100,
                  in_channels=192, loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/deit-t-p4_1xb64-200e_cifar100/epoch_200.pth',
    taps=dict(feat_S='student.backbone.layer3',
              pool_S='student.head.fc:input'),
    distill_losses=dict(
        loss_cakd=dict(
            type='CAKDLoss',
            mode='released-code',
            student_channels=256,
            teacher_dims=192,
            teacher_heads=3,
            pca=dict(embed_dims=256, num_heads=4),
            gl=dict(window_size=4, grouping='residue'),
            attn_weight=0.2,
            vv_weight=0.05,
            gl_weight=0.05,
            # class-token and logit terms of the release; the reference
            # notes give no weights, 0.05 (GL's) is an assumption
            pooled_channels=256,
            cls_weight=0.05,
            logit_weight=0.05,
            inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k', t_v='t_v',
                        t_featmap='t_featmap', pooled_S='pool_S',
                        t_cls='t_cls', preds_S='s_logits',
                        preds_T='t_logits'))),
    discriminator=dict(type='AttentionDiscriminator', in_channels=1),
    adv_weight=0.1,
    detach_adversarial=False)
optim_wrapper = dict(
    _delete_=True,
    constructor='DiscriminatorOptimWrapperConstructor',
    student=dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
# the MultiStepLR of the base schedule applies to both optimizers
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DataCheckHook'),
    dict(type='LossEpochHook'),
    dict(type='LossWeightRampHook', start_epoch=25, end_epoch=75,
         max_weight=0.2),
]
