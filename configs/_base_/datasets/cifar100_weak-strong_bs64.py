# CIFAR-100 with two training views per image (MLKD's weak and strong
# views): the sample itself gets the standard crop + flip; ExtraView adds
# `img_strong`, crop + flip + RandAugment (2 operations, magnitude drawn
# uniformly up to 10 of 10, as the official code's RandAugment(2, 10)).
_base_ = ['./cifar100_bs64.py']
train_pipeline = [
    dict(type='ExtraView', key='img_strong', pipeline=[
        dict(type='RandomCrop', crop_size=32, padding=4),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandAugment', policies='timm_increasing', num_policies=2,
             total_level=10, magnitude_level=10, magnitude_std='inf',
             hparams=dict(pad_val=[125, 123, 114])),
    ]),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', algorithm_keys=['img_strong']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
