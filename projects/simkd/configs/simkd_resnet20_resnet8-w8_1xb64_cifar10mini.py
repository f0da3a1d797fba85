# SimKD (the plugin's SimKDDistiller) on the bundled CIFAR-10 subset: the
# quickstart's ResNet-20 teacher and half-width ResNet-8 student, schedule
# and seed. Run from the repository root:
#   python tools/train.py projects/simkd/configs/simkd_resnet20_resnet8-w8_1xb64_cifar10mini.py
_base_ = [
    '../../../configs/_base_/datasets/cifar10_mini_bs64.py',
    '../../../configs/_base_/schedules/cifar_sgd_cosine_15e.py',
    '../../../configs/_base_/default_runtime.py',
]
# import the plugin so its @MODELS.register_module() runs
custom_imports = dict(imports=['projects.simkd.simkd'],
                      allow_failed_imports=False)
model = dict(
    type='SimKDDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8, widths=(8, 16, 32)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=32)),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64)),
    # the quickstart pipeline's teacher stage
    teacher_ckpt='work_dirs/pipeline_kd_resnet20_resnet8-w8_cifar10mini/'
    'teacher/epoch_15.pth',
    factor=2,
    distill_losses=dict(
        loss_simkd=dict(type='HintLoss', loss_weight=1.0,
                        inputs=dict(feats_S='s_proj', feats_T='t_feat'))))
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=5, max_keep_ckpts=1))
randomness = dict(seed=0)
