# The Transformer teacher of the CAKD evidence run on the bundled CIFAR-10
# subset (benchmarks/cakd_cifar10.py): a small ViT (mmpretrain's
# VisionTransformer, custom arch: 96 dims, 4 layers, 3 heads of 32, MLP
# 384) with 4x4 patches on 32x32 images, an 8x8 patch grid plus a class
# token. AdamW lr 1e-3, weight decay 0.05 (none on norms, biases, class
# token and position embedding), one warm-up epoch then cosine, batch 64,
# label smoothing 0.1: the recipe of
# configs/cifar_models/deit-t-p4_1xb64-200e_cifar100.py, shortened.
_base_ = [
    '../_base_/datasets/cifar10_mini_bs64.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer',
                  arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                            feedforward_channels=384),
                  img_size=32, patch_size=4, drop_path_rate=0.1),
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=10,
              in_channels=96,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                        mode='original')))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0),
                                    '.pos_embed': dict(decay_mult=0.0)}))
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=max_epochs,
         eta_min=1e-5, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
