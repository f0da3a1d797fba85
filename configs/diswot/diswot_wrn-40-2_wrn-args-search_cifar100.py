# DisWOT over a backbone's arguments: every WideResNet with depth in
# {10, 16, 22, 28, 40} and widen factor in {1, 2, 4} (15 nets, named like
# "depth=16,widen_factor=2"), scored exhaustively against a random WRN-40-2
# teacher on one batch of 128 CIFAR-100 images. Widths differ from the
# teacher's (64/128/256 vs 128 channels), so M_s compares channel-pooled
# gradients (channel_mismatch='adaptive_avg_pool', mmkd's projection, not
# the paper's; DisWOTMr is the paper's way out). BackboneArgSpace works with
# any mmkd or mmpretrain backbone (e.g. mmpretrain's MobileNetV2 with
# choices=dict(widen_factor=[0.5, 0.75, 1.0])).
#     python tools/search.py configs/diswot/diswot_wrn-40-2_wrn-args-search_cifar100.py
_base_ = ['./diswot_resnet56_s1-search_cifar100.py']
model = dict(
    backbone=dict(type='WideResNet', depth=40, widen_factor=2, _delete_=True),
    head=dict(in_channels=128))
train_cfg = dict(
    space=dict(type='BackboneArgSpace', backbone=dict(type='WideResNet'),
               choices=dict(depth=[10, 16, 22, 28, 40],
                            widen_factor=[1, 2, 4]),
               num_classes=100, _delete_=True),
    searcher=dict(type='ExhaustiveSearcher', generation_size=15),
    proxy=dict(type='DisWOT', channel_mismatch='adaptive_avg_pool'),
    train_template='../kd/kd_wrn-40-2_wrn-16-2_1xb64_cifar100.py')
