# DisWOT (Dong et al., CVPR 2023): training-free search of the CIFAR ResNet
# depth space "S1" (depths {1,3,5,7} per stage, widths 16/32/64: 64 nets)
# for a CIFAR ResNet-56 teacher on CIFAR-100. Not a training config:
#     python tools/search.py configs/diswot/diswot_resnet56_s1-search_cifar100.py
# The runner's `model` is the teacher; train_cfg.type == 'SearchLoop' runs
# the search (mmkd/engine/search_loop.py). One batch of 128 CIFAR-100
# training images (methods.md 1.3), no augmentation. teacher_ckpt=None
# searches with a random teacher, as the paper; give a checkpoint to search
# against a trained one. The best student is written as a KD config
# (0.1 CE + 0.9 KL, T = 4, 240 epochs) that tools/train.py runs directly.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='CIFARResNet', depth=56),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
train_cfg = dict(
    type='SearchLoop',
    space=dict(type='CIFARResNetDepthSpace', depths=(1, 3, 5, 7),
               widths=(16, 32, 64), num_classes=100),
    searcher=dict(type='ExhaustiveSearcher', generation_size=16),
    proxy=dict(type='DisWOT'),
    # also recorded per candidate (M_s and M_r come with DisWOT's score)
    extra_proxies=dict(params=dict(type='Params')),
    constraints=dict(),
    teacher_ckpt=None,
    seed=0,
    train_template='../kd/kd_resnet56_resnet20_1xb64_cifar100.py')
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(save_last=False))
