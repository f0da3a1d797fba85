# CAKD from the small ViT teacher (vit-p4-w96_1xb64_cifar10mini.py, 8x8
# patch grid, 96 dims, 3 heads) into the quickstart student (CIFAR
# ResNet-8, widths 8/16/32) on the bundled CIFAR-10 subset: the "CAKD" row
# of benchmarks/cakd_cifar10.py. Released-code form of the CIFAR-100
# configs: the student's layer3 map (32 x 8 x 8, the teacher's grid) goes
# through the PCA projector (bias-free Linear 32 -> 3 x 32, 4 heads of 8;
# head-averaged Q K^T / sqrt(d) and V V^T / sqrt(d), weights 0.2 and 0.05)
# and the GL projector (4x4 residue groups, 16 Linears 32 -> 96, weight
# 0.05), plus the class-token and logit terms (0.05 each). Multi-view: the
# student's view gets random erasing on top of the shared crop and flip,
# the teacher sees the clean crop. Adversarial: AttentionDiscriminator on
# the head-averaged 64x64 relations (base width 16), Adam 2e-4,
# adversarial weight 0.1, gradient reaching the student. Total: CE +
# w(epoch) * (CAKD + adversarial); w ramps 0 -> 0.2 over epochs 3-9 of 15
# (the release's 25-75 of 120, scaled to the schedule). The student's
# optimizer and schedule are the quickstart's (SGD 0.1 Nesterov, cosine),
# as for the other rows.
# Multi-process: KDRunner wraps it in TrainStepDataParallel by itself.
_base_ = ['./kd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py']
bgr_mean = [113.8575, 122.961, 125.307]
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='CAKDMultiView',
        student_pipeline=[
            dict(type='RandomErasing', erase_prob=0.25, mode='rand',
                 min_area_ratio=0.02, max_area_ratio=1 / 3,
                 fill_color=bgr_mean, fill_std=[51.255, 50.847, 51.5865]),
        ],
        teacher_pipeline=[]),
    dict(type='PackInputs', algorithm_keys=['t_img']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    type='CAKDDistiller',
    student_loss_weight=1.0,
    taps=dict(feat_S='student.backbone.layer3',
              pool_S='student.head.fc:input'),
    distill_losses=dict(
        _delete_=True,
        loss_cakd=dict(
            type='CAKDLoss',
            mode='released-code',
            student_channels=32,
            teacher_dims=96,
            teacher_heads=3,
            pca=dict(embed_dims=32, num_heads=4),
            gl=dict(window_size=4, grouping='residue'),
            attn_weight=0.2,
            vv_weight=0.05,
            gl_weight=0.05,
            pooled_channels=32,
            cls_weight=0.05,
            logit_weight=0.05,
            inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k', t_v='t_v',
                        t_featmap='t_featmap', pooled_S='pool_S',
                        t_cls='t_cls', preds_S='s_logits',
                        preds_T='t_logits'))),
    # base 16 (default 32): a critic of the student's size on 64x64 maps
    discriminator=dict(type='AttentionDiscriminator', in_channels=1,
                       base_channels=16),
    adv_weight=0.1,
    detach_adversarial=False)
optim_wrapper = dict(
    _delete_=True,
    constructor='DiscriminatorOptimWrapperConstructor',
    student=dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                       nesterov=True)),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DataCheckHook'),
    dict(type='LossEpochHook'),
    dict(type='LossWeightRampHook', start_epoch=3, end_epoch=9,
         max_weight=0.2),
]
