# DisWOT's ImageNet macro search (Dong et al., CVPR 2023): the ResNet-18-like
# Zen-NAS-style space (MacroSpace preset 'imagenet_resnet18': 7x7/2 stem +
# max pool, 4 basic groups 64..512, kernels {3,5,7}, widths
# x{1.5,1.25,1,0.8,0.667} rounded to 8, depth +-1, at most 34 layers) for
# mmpretrain's ResNet-34 teacher, one batch of 32 ImageNet images, the M_r-only
# proxy (the authors' choice: teacher and student widths differ), evolution
# as the authors': the parent is a random member (tournament_size=1), one
# group mutated, the worst dropped; population 512, 4992 candidates. Params
# and FLOPs at most ResNet-18's (11.7M, 1.82G; mmkd's budget choice).
#     python tools/search.py configs/diswot/diswot_resnet34_macro-r18-evolution_in1k.py
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=34, num_stages=4, out_indices=(3, ),
                  style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=512,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=256, edge='short'),
        dict(type='CenterCrop', crop_size=224),
        dict(type='PackInputs'),
    ]),
    sampler=dict(type='DefaultSampler', shuffle=False))
train_cfg = dict(
    type='SearchLoop',
    space=dict(type='MacroSpace', preset='imagenet_resnet18',
               num_classes=1000),
    searcher=dict(type='EvolutionSearcher', population_size=512,
                  num_generations=70, children_per_generation=64,
                  tournament_size=1, removal='worst'),
    proxy=dict(type='DisWOTMr'),
    extra_proxies=dict(params=dict(type='Params')),
    constraints=dict(max_params=11_700_000, max_flops=1_820_000_000),
    teacher_ckpt=None,
    seed=0,
    train_template='../kd/kd_resnet34_resnet18_8xb32_in1k.py')
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(save_last=False))
