# ResNet-32x4 teaches ResNet-8x4 on CIFAR-100. Leaf configs add the losses;
# the teacher comes from configs/cifar_models/resnet32x4_1xb64_cifar100.py.
# RepDistiller's features (module path inside backbone, channels):
#   teacher: stem 32, layer1 64, layer2 128, layer3 256, head.fc:input 256
#   student: stem 32, layer1 64, layer2 128, layer3 256, head.fc:input 256
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8, widths=(32, 64, 128, 256)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=32, widths=(32, 64, 128, 256)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=256,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/resnet32x4_1xb64_cifar100/epoch_240.pth')
