# CAKD (Liu et al., ACCV 2022) with a Swin teacher on ImageNet: Swin-T
# (mmpretrain's SwinTransformer arch 'tiny', 224px, window 7; its last stage
# is a 7x7 grid of 768 dims, 24 heads) teaches ResNet-18, with the recipe of
# the ViT-B/16 -> ResNet-50 config. SwinAttentionTap reads the last block:
# at 224px its 7x7 grid is one 7x7 window (mmpretrain does not shift a
# window that covers the grid), so the PCA relations span all 49 tokens,
# as with a ViT (t_windows gives the window layout: any grid that is a
# whole number of windows works, relations are then matched per window).
# The student's layer4 map (512 x 7 x 7, the teacher's grid) goes through
# the released-code PCA projector (bias-free Linear 512 -> 3 x 512, 8 heads
# of 64) and the GL projector (4x4 residue groups, 16 Linears 512 -> 768).
# Swin has no class token: no class-token term (cls_weight=0).
# Teacher: mmpretrain's swin-tiny_16xb64_in1k checkpoint, saved as
# checkpoints/swin-tiny_16xb64_in1k.pth (README.md).
_base_ = ['./cakd_vit-b-p16_resnet50_8xb32_in1k.py']
model = dict(
    student=dict(
        backbone=dict(depth=18),
        head=dict(in_channels=512)),
    teacher=dict(
        _delete_=True,
        type='ImageClassifier',
        backbone=dict(type='SwinTransformer', arch='tiny', img_size=224,
                      drop_path_rate=0.2),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=768,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='checkpoints/swin-tiny_16xb64_in1k.pth',
    taps=dict(_delete_=True, feat_S='student.backbone.layer4'),
    distill_losses=dict(
        loss_cakd=dict(
            student_channels=512,
            teacher_dims=768,
            teacher_heads=24,
            pca=dict(embed_dims=512, num_heads=8),
            pooled_channels=None,
            cls_weight=0.0,
            inputs=dict(_delete_=True, feats_S='feat_S', t_q='t_q',
                        t_k='t_k', t_v='t_v', t_featmap='t_featmap',
                        t_windows='t_windows', preds_S='s_logits',
                        preds_T='t_logits'))))
