# OFA-KD with a Swin student: ResNet-50 teaches Swin-N, the official code's
# swin_nano_patch4_window7_224 (custom_model/swin_transformer.py: patch 4,
# window 7, 64 dims, depths 2/2/2/2, heads 2/4/8/16; 512 final dims), as
# mmpretrain's SwinTransformer with that arch dict, with the recipe of
# ofa_resnet50_deit-t_8xb128_in1k.py (configs/imagenet/vit_mlp.yaml, eps
# 1.5). Stages = the official stage_info of Swin-N: the last block of each
# stage, before its downsampling (56x56x64, 28x28x128, 14x14x256, 7x7x512
# tokens, no class token). Each gets an OFAViTBranch to 512 dims: 3/2/1/0
# PatchMergings, 3/2/1/1 Transformer blocks (4 heads), the token mean,
# Linear to 1000 classes.
_base_ = ['./ofa_resnet50_deit-t_8xb128_in1k.py']
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        '.absolute_pos_embed': dict(decay_mult=0.0),
        '.relative_position_bias_table': dict(decay_mult=0.0)}))
model = dict(
    student=dict(
        _delete_=True,
        type='ImageClassifier',
        backbone=dict(type='SwinTransformer',
                      arch=dict(embed_dims=64, depths=[2, 2, 2, 2],
                                num_heads=[2, 4, 8, 16]),
                      img_size=224),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                            mode='original'),
                  topk=(1, 5))),
    taps=dict(
        _delete_=True,
        s_stage1='student.backbone.stages.0.blocks.1',
        s_stage2='student.backbone.stages.1.blocks.1',
        s_stage3='student.backbone.stages.2.blocks.1',
        s_stage4='student.backbone.stages.3.blocks.1'),
    connectors=dict(
        s_branch1=dict(in_channels=64, out_channels=512, num_patches=3136,
                       num_tokens=0),
        s_branch2=dict(in_channels=128, out_channels=512, num_patches=784,
                       num_tokens=0),
        s_branch3=dict(in_channels=256, out_channels=512, num_patches=196,
                       num_tokens=0),
        s_branch4=dict(in_channels=512, out_channels=512, num_patches=49,
                       num_tokens=0)))
