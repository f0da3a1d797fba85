# ResNet-34 teaches ResNet-18 on ImageNet-1k (mmpretrain's ResNet, 224px).
# The teacher is mmpretrain's released resnet34_8xb32_in1k checkpoint, saved
# by the user as checkpoints/resnet34_8xb32_in1k.pth (configs/kd/README.md).
# Features (module path inside backbone, channels): layer1 64 (56x56),
# layer2 128, layer3 256, layer4 512 (7x7); head.fc:input 512, both models.
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18, num_stages=4,
                      out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, 5))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=34, num_stages=4,
                      out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'), topk=(1, 5))),
    teacher_ckpt='checkpoints/resnet34_8xb32_in1k.pth',
    check_input_shape=(3, 224, 224))
