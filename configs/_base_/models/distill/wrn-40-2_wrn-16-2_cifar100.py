# WRN-40-2 teaches WRN-16-2 on CIFAR-100. Leaf configs add the losses; the
# teacher comes from configs/cifar_models/wrn-40-2_1xb64_cifar100.py.
# RepDistiller's features (module path inside backbone, channels):
#   teacher: stem 16, layer1 32, layer2 64, layer3.5 128, head.fc:input 128
#   student: stem 16, layer1 32, layer2 64, layer3.1 128, head.fc:input 128
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='WideResNet', depth=16, widen_factor=2),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=128,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='WideResNet', depth=40, widen_factor=2),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=128,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/wrn-40-2_1xb64_cifar100/epoch_240.pth')
