# Logits KD from the small ViT teacher (vit-p4-w96_1xb64_cifar10mini.py)
# into the quickstart student (CIFAR ResNet-8, widths 8/16/32) on the
# bundled CIFAR-10 subset, with the quickstart's KD settings (0.1 CE +
# 0.9 KL, T = 4) and the student's schedule (SGD 0.1 Nesterov, cosine):
# the "logits KD" row of benchmarks/cakd_cifar10.py.
_base_ = ['../quickstart/resnet8-w8_1xb64_cifar10mini.py']
_student = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(8, 16, 32)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
              loss=dict(type='CrossEntropyLoss')))
_teacher = dict(
    type='ImageClassifier',
    backbone=dict(type='VisionTransformer',
                  arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                            feedforward_channels=384),
                  img_size=32, patch_size=4),
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=10,
              in_channels=96, loss=dict(type='CrossEntropyLoss')))
model = dict(
    _delete_=True,
    type='SingleTeacherDistiller',
    student=_student,
    teacher=_teacher,
    # set by benchmarks/cakd_cifar10.py to the teacher stage's checkpoint
    teacher_ckpt='work_dirs/vit-p4-w96_1xb64_cifar10mini/epoch_20.pth',
    student_loss_weight=0.1,
    distill_losses=dict(
        loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                     inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
