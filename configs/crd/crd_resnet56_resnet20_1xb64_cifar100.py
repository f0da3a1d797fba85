# CRD (Tian et al. 2020), RepDistiller's CIFAR-100 recipe: ResNet-56 teaches
# ResNet-20; loss = 1.0 CE + 0.8 CRD (no KD term), 16384 negatives from other
# classes, tau 0.07, memory momentum 0.5, embeddings of 128; 240 epochs, SGD
# 0.05, lr x0.1 at 150/180/210, batch 64 on one GPU.
# The teacher comes from configs/cifar_models/resnet56_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SingleTeacherDistiller',
    student=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=20),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher=dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=56),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))),
    teacher_ckpt='work_dirs/resnet56_1xb64_cifar100/epoch_240.pth',
    # the pooled features the linear heads see
    taps=dict(s_feat='student.head.fc:input', t_feat='teacher.head.fc:input'),
    student_loss_weight=1.0,
    distill_losses=dict(
        loss_crd=dict(type='CRDLoss', s_dim=64, t_dim=64, num_data=50000,
                      loss_weight=0.8,
                      inputs=dict(feats_S='s_feat', feats_T='t_feat',
                                  sample_idx='sample_idx',
                                  contrast_idx='contrast_idx'))))
# each training sample carries its index and 16384 negative indices
train_dataloader = dict(
    dataset=dict(
        _delete_=True, type='CRDDataset', nce_k=16384,
        dataset=dict(type='CIFAR100', data_root='data/cifar100',
                     split='train', pipeline=_base_.train_pipeline)))
