# CAKD (Liu et al., ACCV 2022), the paper's form, on CIFAR-100: the
# DeiT-Tiny-sized ViT with 4x4 patches (8x8 grid, 192 dims, 3 heads; from
# configs/cifar_models/deit-t-p4_1xb64-200e_cifar100.py) teaches ResNet-18
# with the CIFAR stem (mmpretrain's ResNet_CIFAR). The student's layer3 map
# (256 x 8 x 8) goes through the PCA projector of the paper (three 3x3
# convolutions 256 -> 192, 3 heads of 64; each of Q/K/V replaced by the
# teacher's with p = 0.5 in training; per-head softmax(Q K^T / 8) and
# V V^T / 8 matched by MSE) and the GL projector (4x4 windows, 256 -> 192).
# The discriminator sees the 3 per-head attention maps; its gradient reaches
# the student. Total: CE + w(epoch) * (CAKD + adversarial), w ramped 0 -> 0.2
# over epochs 25-75; RepDistiller's 240-epoch SGD schedule.
_base_ = ['./cakd_deit-t-p4_resnet8x4_1xb64_cifar100.py']
model = dict(
    student=dict(
        _delete_=True,
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'))),
    distill_losses=dict(
        loss_cakd=dict(
            mode='paper',
            student_channels=256,
            pca=dict(_delete_=True, embed_dims=192, num_heads=3,
                     replace_prob=0.5),
            pooled_channels=512)),
    discriminator=dict(in_channels=3))
