# A DeiT-Tiny-sized Vision Transformer (mmpretrain's VisionTransformer,
# arch 'deit-tiny': 192 dims, 12 layers, 3 heads) with 4x4 patches on 32x32
# CIFAR-100 images (an 8x8 patch grid plus a class token), trained alone:
# the teacher of configs/cakd/cakd_deit-t-p4_*_cifar100.py. AdamW lr 1e-3,
# weight decay 0.05, 200 epochs cosine after 10 warm-up epochs, batch 64,
# label smoothing 0.1 (a common from-scratch ViT recipe on CIFAR; not tuned
# in mmkd).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32,
                  patch_size=4, drop_path_rate=0.1),
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=100,
              in_channels=192,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                        mode='original')))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0),
                                    '.pos_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=10, end=200,
         eta_min=1e-5),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
