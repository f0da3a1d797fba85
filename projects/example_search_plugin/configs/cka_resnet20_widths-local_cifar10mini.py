# The example search plugin at work: search the stage widths of a ResNet-20
# shaped student for a random CIFAR ResNet-20 teacher, scored by linear CKA,
# with a greedy local searcher, on the bundled CIFAR-10 subset. Run from the
# repository root:
#     python tools/search.py projects/example_search_plugin/configs/cka_resnet20_widths-local_cifar10mini.py
_base_ = [
    '../../../configs/diswot/diswot_resnet20_s1-evolution_cifar10mini.py'
]
# import the plugin so its register_module() decorators run
custom_imports = dict(
    imports=['projects.example_search_plugin.example_search_plugin'],
    allow_failed_imports=False)
train_cfg = dict(
    space=dict(type='CIFARResNetWidthSpace', stage_blocks=(3, 3, 3),
               width_choices=(8, 16, 32, 64), num_classes=10, _delete_=True),
    searcher=dict(type='LocalSearcher', num_starts=4, num_steps=3,
                  neighbours=4, _delete_=True),
    proxy=dict(type='LinearCKA', _delete_=True),
    constraints=dict(max_params=300_000, _delete_=True),
    # relative to this file
    train_template='../../../configs/quickstart/'
    'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
