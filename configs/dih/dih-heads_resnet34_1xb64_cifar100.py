# DIH stage 2 (Asadian & Salehi-Abari, arXiv 2103.00497): fine-tune 4
# classifier heads on the frozen ResNet-34 teacher (CIFAR-100); only the heads
# train (sum of their CE), the teacher stays in eval mode under no_grad.
# Heads: the paper's single Linear on the flattened map (DIHHead), sized
# from the teacher's maps at input_shape=(3, 32, 32).
# Each head is kept at its best top-1 on a validation split of 10% of the
# training set (SplitDataset, seed 0), never on the test set; the last
# checkpoint holds the teacher and the selected heads and is the
# teacher_ckpt of dih_resnet34_*_1xb64_cifar100.py.
# Schedule: DIH README Table 2 (200 epochs, SGD 0.1 Nesterov, wd 5e-4,
# x0.1 at 60/120/180, batch 64).
_base_ = [
    '../_base_/datasets/cifar100_heldout_bs64.py',
    '../_base_/schedules/cifar_sgd_200e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='HeadFinetuner',
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=34),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=512,
                  loss=dict(type='CrossEntropyLoss'))),
    # set by the pipeline to the teacher stage's checkpoint
    teacher_ckpt='work_dirs/resnet34_1xb64-200e_cifar100/epoch_200.pth',
    mounts=[
        'teacher.backbone.layer1',
        'teacher.backbone.layer2',
        'teacher.backbone.layer3',
        'teacher.backbone.layer4',
    ],
    head=dict(type='DIHHead'),
    input_shape=(3, 32, 32))
# accuracy/top1: the teacher; head<j>_accuracy/top1: head j
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(
        type='MultiTasksMetric',
        task_metrics=dict(
            head1=[dict(type='Accuracy', topk=(1, ))],
            head2=[dict(type='Accuracy', topk=(1, ))],
            head3=[dict(type='Accuracy', topk=(1, ))],
            head4=[dict(type='Accuracy', topk=(1, ))],
        )),
]
test_evaluator = val_evaluator
custom_hooks = _base_.custom_hooks + [dict(type='HeadSelectHook')]
