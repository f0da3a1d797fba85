# OFA-KD (Hao et al., NeurIPS 2023), the official ImageNet command
# (README: --distiller ofa --ofa-eps 1.5, configs/imagenet/cnn.yaml): DeiT-T
# (mmpretrain's VisionTransformer arch 'deit-tiny', 224px) teaches ResNet-18
# (mmpretrain's ResNet). Each student stage gets an OFABranch into the
# logit space: layer1-3 through 3/2/1 SepConvs, layer4 through a 1x1 conv,
# all to max(512, 192) = 512 channels, pooled, Linear to 1000 classes.
# Loss = 1.0 CE (label smoothing 0.1) + sum of OFALoss(eps=1.5) over the
# four branches + OFALoss(eps=1.5) on the student's logits. 100 epochs, SGD
# lr 0.1 for batch 512 = 8 GPUs x 64, 3 warm-up epochs, lr x0.1 every 30
# epochs, weight decay 1e-4. Teacher: mmpretrain's deit-tiny_4xb256_in1k
# checkpoint, saved as checkpoints/deit-tiny_4xb256_in1k.pth (README.md).
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_sgd_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/methods/ofa.py',
]
train_dataloader = dict(batch_size=64)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90],
         gamma=0.1)
]
auto_scale_lr = dict(base_batch_size=512)
model = _base_.pop('ofa_model')
model.update(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18, num_stages=4,
                      out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                            mode='original'),
                  topk=(1, 5))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny',
                      img_size=224, patch_size=16),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=1000,
                  in_channels=192, loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='checkpoints/deit-tiny_4xb256_in1k.pth',
    check_input_shape=(3, 224, 224))
# the fourth stage: its tap, branch and loss, like the other three
model.taps.s_stage4 = 'student.backbone.layer4'
model.connectors.s_branch4 = dict(type='OFABranch', input='s_stage4')
model.distill_losses.loss_ofa_4 = dict(
    type='OFALoss',
    inputs=dict(preds_S='s_branch4', preds_T='t_logits',
                gt_labels='gt_labels'))
# branches from the stage widths (64 ... 512), through 3/2/1/0 SepConvs, to
# max(512, 192) = 512 channels and 1000 classes; eps 1.5 on every loss
for __branch, __ch, __down in zip(
        [model.connectors[f's_branch{__i}'] for __i in (1, 2, 3, 4)],
        (64, 128, 256, 512), (3, 2, 1, 0)):
    __branch.update(in_channels=__ch, out_channels=512, num_classes=1000,
                    num_downsample=__down)
for __loss in model.distill_losses.values():
    __loss.eps = 1.5
