# OFA-KD with a Swin teacher on ImageNet: Swin-T (mmpretrain's
# SwinTransformer arch 'tiny', 224px, 768 final dims) teaches ResNet-18 with
# the recipe of ofa_deit-t_resnet18_8xb64_in1k.py; the branches end in
# max(512, 768) = 768 channels. Teacher: mmpretrain's swin-tiny_16xb64_in1k
# checkpoint, saved as checkpoints/swin-tiny_16xb64_in1k.pth (README.md).
_base_ = ['./ofa_deit-t_resnet18_8xb64_in1k.py']
model = dict(
    teacher=dict(
        _delete_=True,
        type='ImageClassifier',
        backbone=dict(type='SwinTransformer', arch='tiny', img_size=224),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=768,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='checkpoints/swin-tiny_16xb64_in1k.pth',
    connectors=dict(
        s_branch1=dict(out_channels=768),
        s_branch2=dict(out_channels=768),
        s_branch3=dict(out_channels=768),
        s_branch4=dict(out_channels=768)))
