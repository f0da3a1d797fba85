# CAKD (Liu et al., ACCV 2022) on ImageNet: DeiT-S (mmpretrain's
# VisionTransformer arch 'deit-small', 224px, 14x14 patch grid, 384 dims,
# 6 heads) teaches ResNet-18, with the recipe of the ViT-B/16 -> ResNet-50
# config. The student's layer3 map (256 x 14 x 14) goes through the
# released-code PCA projector (bias-free Linear 256 -> 3 x 256, 4 heads of
# 64) and the GL projector (4x4 windows, 16 Linears 256 -> 384); the pooled
# feature is 512. No discriminator, as in the ViT-B config.
# Teacher: mmpretrain's deit-small_4xb256_in1k checkpoint, saved as
# checkpoints/deit-small_4xb256_in1k.pth (README.md).
_base_ = ['./cakd_vit-b-p16_resnet50_8xb32_in1k.py']
model = dict(
    student=dict(
        backbone=dict(depth=18),
        head=dict(in_channels=512)),
    teacher=dict(
        backbone=dict(arch='deit-small', drop_path_rate=0.1),
        head=dict(in_channels=384)),
    teacher_ckpt='checkpoints/deit-small_4xb256_in1k.pth',
    distill_losses=dict(
        loss_cakd=dict(
            student_channels=256,
            teacher_dims=384,
            teacher_heads=6,
            pca=dict(embed_dims=256, num_heads=4),
            pooled_channels=512)))
