# The exported SimKD student as a plain mmpretrain classifier: the student's
# backbone, the SimKD projector as neck, the teacher's classifier as head.
# tools/model_converters/export_student.py --config <the SimKD config>
# writes a checkpoint with exactly these keys; tools/test.py this file
# with that checkpoint evaluates it.
_base_ = [
    '../../../configs/_base_/datasets/cifar10_mini_bs64.py',
    '../../../configs/_base_/default_runtime.py',
]
custom_imports = dict(imports=['projects.simkd.simkd'],
                      allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=8, widths=(8, 16, 32)),
    neck=dict(type='SimKDNeck', in_channels=32, out_channels=64, factor=2,
              out_size=8),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=64))
test_cfg = dict()
train_dataloader = None  # an evaluation config: tools/test.py only
val_cfg = dict()
