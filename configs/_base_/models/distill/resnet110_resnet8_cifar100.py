# ResNet-110 teaches ResNet-8 on CIFAR-100. Leaf configs add the losses; the
# teacher comes from configs/cifar_models/resnet110_1xb64_cifar100.py.
# RepDistiller's features (module path inside backbone, channels):
#   teacher: stem 16, layer1 16, layer2 32, layer3 64, head.fc:input 64
#   student: stem 16, layer1 16, layer2 32, layer3 64, head.fc:input 64
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=110),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/resnet110_1xb64_cifar100/epoch_240.pth')
