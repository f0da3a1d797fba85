# OFA-KD (Hao et al., NeurIPS 2023) with a ViT student: ResNet-50
# (mmpretrain's ResNet) teaches DeiT-T (mmpretrain's VisionTransformer arch
# 'deit-tiny', 224px, patch 16: 1 + 196 tokens of 192 dims) on ImageNet.
# The official README command with --model deit_tiny_patch16_224 --teacher
# resnet50 and the official ViT/MLP recipe (configs/imagenet/vit_mlp.yaml);
# eps 1.5 as in the README's ImageNet command. Stages = the official
# stage_info of DeiT-T: blocks 1, 3, 9, 11 (taps layers.1 ... layers.11,
# before the final norm). Each gets an OFAViTBranch: the class token kept,
# the 14x14 patch tokens through one 2x2 PatchMerging (192 -> 192, GELU),
# then 3/2/1/1 Transformer blocks (192 dims, 4 heads), the class token,
# Linear to 1000 classes. Loss = 1.0 CE (label smoothing 0.1, mixup 0.8 /
# cutmix 1.0) + OFALoss(eps=1.5) on each branch + OFALoss(eps=1.5) on the
# student's logits. 300 epochs, AdamW lr 5e-4 for batch 1024 = 8 GPUs x 128,
# weight decay 0.05 (none on norms, biases, cls_token, pos_embed), 20
# warm-up epochs from 5e-7, cosine to 1e-6, gradient clipping 5.0,
# RandAugment m9 mstd0.5, random erasing 0.25, EMA 0.99996. Teacher:
# mmpretrain's resnet50_8xb32_in1k checkpoint, saved as
# checkpoints/resnet50_8xb32_in1k.pth (README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/default_runtime.py',
    '../_base_/methods/ofa.py',
]
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
data_preprocessor = dict(
    batch_augments=dict(augments=[dict(type='Mixup', alpha=0.8),
                                  dict(type='CutMix', alpha=1.0)]))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean],
                      interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand',
         min_area_ratio=0.02, max_area_ratio=1 / 3, fill_color=bgr_mean,
         fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=248, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05,
                   betas=(0.9, 0.999), eps=1e-8),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0),
                                    '.pos_embed': dict(decay_mult=0.0)}),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=20, end=300,
         eta_min=1e-6)
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DataCheckHook'),
    dict(type='LossEpochHook'),
    # the official model_ema_decay 0.99996
    dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL'),
]
model = _base_.pop('ofa_model')
model.update(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny',
                      img_size=224, patch_size=16),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=1000,
                  in_channels=192,
                  loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                            mode='original'),
                  topk=(1, 5))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=50, num_stages=4,
                      out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='checkpoints/resnet50_8xb32_in1k.pth',
    check_input_shape=(3, 224, 224))
# the ViT student's four stages (blocks 1, 3, 9, 11) replace the method
# part's CNN taps and branches; its losses stay, with a fourth branch's
model.taps = {f's_stage{__s}': f'student.backbone.layers.{__i}'
              for __s, __i in zip((1, 2, 3, 4), (1, 3, 9, 11))}
model.connectors = {
    f's_branch{__s}': dict(type='OFAViTBranch', in_channels=192,
                           out_channels=192, num_classes=1000,
                           num_patches=196, num_blocks=max(4 - __s, 1),
                           input=f's_stage{__s}')
    for __s in (1, 2, 3, 4)}
model.distill_losses.loss_ofa_4 = dict(
    type='OFALoss',
    inputs=dict(preds_S='s_branch4', preds_T='t_logits',
                gt_labels='gt_labels'))
for __loss in model.distill_losses.values():
    __loss.eps = 1.5
