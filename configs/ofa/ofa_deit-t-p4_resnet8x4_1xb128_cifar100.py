# OFA-KD (Hao et al., NeurIPS 2023) on CIFAR-100 with the official CIFAR
# recipe (configs/cifar/cnn.yaml: 300 epochs, SGD lr 0.05 for batch 128,
# cosine to 1e-3 after 3 warm-up epochs, weight decay 2e-3, label smoothing
# 0.1) and train.py's default eps = 1: the 32px DeiT-Tiny-sized ViT of
# configs/cifar_models/deit-t-p4_1xb64-200e_cifar100.py (the CAKD configs'
# teacher) teaches ResNet-8x4. Branches: layer1 (64 ch) through 2 SepConvs,
# layer2 (128) through 1, layer3 (256) through a 1x1 conv, all to
# max(256, 192) = 256 channels and 100 classes. Loss = 1.0 CE + OFALoss on
# the three branches + OFALoss on the student's logits.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/default_runtime.py',
    '../_base_/methods/ofa.py',
]
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=3, end=300,
         eta_min=1e-3)
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
model = _base_.pop('ofa_model')
model.update(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8, widths=(32, 64, 128, 256)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                            mode='original'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny',
                      img_size=32, patch_size=4),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=100,
                  in_channels=192, loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/deit-t-p4_1xb64-200e_cifar100/epoch_200.pth')
# branches from the stage widths (64, 128, 256) to max(256, 192) = 256
for __branch, __ch in zip(model.connectors.values(), (64, 128, 256)):
    __branch.update(in_channels=__ch, out_channels=256, num_classes=100)
