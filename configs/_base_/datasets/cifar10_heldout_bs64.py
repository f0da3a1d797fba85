# CIFAR-10 with a validation split carved from the training set: training on
# 45,000 training images, validation on the other 5,000 (SplitDataset,
# val_ratio 0.1, seed 0, the same split for every run), testing on the test
# set. For choosing checkpoints (e.g. DIH's heads) without the test set.
_base_ = ['./cifar10_bs64.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SplitDataset',
        part='train',
        val_ratio=0.1,
        seed=0,
        dataset=dict(type='CIFAR10', data_root='data/cifar10', split='train',
                     pipeline=_base_.train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='SplitDataset',
        part='val',
        val_ratio=0.1,
        seed=0,
        dataset=dict(type='CIFAR10', data_root='data/cifar10', split='train',
                     pipeline=_base_.test_pipeline)))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(type='CIFAR10', data_root='data/cifar10', split='test',
                 pipeline=_base_.test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
