# DisWOT over the whole S1 space (64 nets) for a random CIFAR ResNet-56
# teacher on one batch of 64 bundled CIFAR-10 images (the paper's CIFAR-10
# batch size), exhaustive, DisWOT score plus params recorded per candidate.
#     python tools/search.py configs/diswot/diswot_resnet56_s1-exhaustive_cifar10mini.py
# Timing on 2 CPU cores: docs/benchmarks.md (DisWOT search).
_base_ = ['./diswot_resnet56_s1-search_cifar100.py']
# the CIFAR10Mini preprocessing (configs/_base_/datasets/cifar10_mini_bs64.py)
data_preprocessor = dict(
    type='ClsDataPreprocessor', num_classes=10,
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
    to_rgb=True, _delete_=True)
model = dict(head=dict(num_classes=10))
train_dataloader = dict(
    batch_size=64,
    dataset=dict(type='CIFAR10Mini', split='train', _delete_=True,
                 pipeline=[dict(type='PackInputs')]))
train_cfg = dict(
    space=dict(num_classes=10),
    train_template='../quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
