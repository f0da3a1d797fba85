# Tiny-ImageNet with a validation split carved from the training set:
# training on 90,000 training images, validation on the other 10,000
# (SplitDataset, val_ratio 0.1, seed 0, the same split for every run),
# testing on the official validation set (the test set has no labels).
_base_ = ['./tiny_imagenet_bs64.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SplitDataset',
        part='train',
        val_ratio=0.1,
        seed=0,
        dataset=dict(type='CustomDataset',
                     data_root='data/tiny-imagenet-200/train',
                     pipeline=_base_.train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SplitDataset',
        part='val',
        val_ratio=0.1,
        seed=0,
        dataset=dict(type='CustomDataset',
                     data_root='data/tiny-imagenet-200/train',
                     pipeline=_base_.test_pipeline)))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(type='CustomDataset', data_root='data/tiny-imagenet-200/val',
                 pipeline=_base_.test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
