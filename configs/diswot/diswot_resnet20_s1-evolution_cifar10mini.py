# Quickstart-size DisWOT search on the bundled CIFAR-10 subset: evolution
# over S1 (64 nets) for a random CIFAR ResNet-20 teacher, batch 64,
# population 8, 4 generations of 4 children, params <= 0.5M.
#     python tools/search.py configs/diswot/diswot_resnet20_s1-evolution_cifar10mini.py
_base_ = ['./diswot_resnet56_s1-search_cifar100.py']
# the CIFAR10Mini preprocessing (configs/_base_/datasets/cifar10_mini_bs64.py)
data_preprocessor = dict(
    type='ClsDataPreprocessor', num_classes=10,
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
    to_rgb=True, _delete_=True)
model = dict(
    backbone=dict(depth=20),
    head=dict(num_classes=10))
train_dataloader = dict(
    batch_size=64,
    dataset=dict(type='CIFAR10Mini', split='train', _delete_=True,
                 pipeline=[dict(type='PackInputs')]))
train_cfg = dict(
    space=dict(num_classes=10),
    searcher=dict(type='EvolutionSearcher', population_size=8,
                  num_generations=4, children_per_generation=4,
                  tournament_size=3, removal='aging', _delete_=True),
    constraints=dict(max_params=500_000),
    train_template='../quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
