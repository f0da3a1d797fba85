# Tiny-ImageNet (64x64, 200 classes) as folder trees:
# data/tiny-imagenet-200/{train,val}/<wnid>/<file>.JPEG (reorganise the
# official val/ by its val_annotations.txt into class folders first).
dataset_type = 'CustomDataset'
data_preprocessor = dict(
    type='ClsDataPreprocessor',
    num_classes=200,
    mean=[122.460, 114.257, 101.364],
    std=[70.491, 68.560, 71.806],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=64, padding=8),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(type=dataset_type, data_root='data/tiny-imagenet-200/train',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(type=dataset_type, data_root='data/tiny-imagenet-200/val',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
