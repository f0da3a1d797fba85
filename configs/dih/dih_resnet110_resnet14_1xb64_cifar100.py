# DIH stage 3 (Asadian & Salehi-Abari, arXiv 2103.00497): ResNet-110 and its 3
# fine-tuned heads teach ResNet-14 on CIFAR-100:
#   L = sum_(j=0..3) [0.1 * 5^2 KL(softmax(z_T^j/5) || softmax(z_S/5))
#                    + 0.9 CE(z_S, y)]
# (tau 5, alpha 0.1, CE counted k+1 times as in the paper; ce_mode='once'
# counts it once). The CE is inside CohortKDLoss, so student_loss_weight=0.
# Schedule: DIH README Table 2 (200 epochs, SGD 0.1 Nesterov, wd 5e-4,
# x0.1 at 60/120/180, batch 64). The student is evaluated on the test set;
# the reported number is the last epoch's.
# Seeds of the paper: --cfg-options randomness.seed=30 (and 50, 67).
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_200e.py',
    '../_base_/default_runtime.py',
    '../_base_/methods/dih.py',
]
model = dict(
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=14),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=110),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    # the head fine-tuning stage's checkpoint: teacher + selected heads
    teacher_ckpt='work_dirs/dih-heads_resnet110_1xb64_cifar100/epoch_200.pth',
    # mounts, head and input_shape as in dih-heads_resnet110_1xb64_cifar100.py
    mounts=[
        'teacher.backbone.layer1',
        'teacher.backbone.layer2',
        'teacher.backbone.layer3',
    ])
