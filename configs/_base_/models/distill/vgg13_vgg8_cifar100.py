# VGG-13 teaches VGG-8 on CIFAR-100. Leaf configs add the losses; the teacher
# comes from configs/cifar_models/vgg13_1xb64_cifar100.py.
# RepDistiller's features (module path inside backbone, channels):
#   teacher: block0 64, block1 128, block2 256, block3 512, block4 512,
#     head.fc:input 512
#   student: block0 64, block1 128, block2 256, block3 512, block4 512,
#     head.fc:input 512
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARVGG', depth=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARVGG', depth=13),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/vgg13_1xb64_cifar100/epoch_240.pth')
