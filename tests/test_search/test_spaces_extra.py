"""The macro (Zen-NAS-style), NAS-Bench-201 and backbone-argument spaces
and their backbones."""
import random

import pytest
import torch
import torch.nn as nn

from mmkd.models.algorithms import build_classifier
from mmkd.models.backbones import MacroResNet, NB201Net
from mmkd.models.backbones.nb201 import arch_to_ops, ops_to_arch
from mmkd.registry import SEARCH_SPACES
from mmkd.search.proxies import count_flops, count_params

BEST_NB201 = ('|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+'
              '|skip_connect~0|nor_conv_3x3~1|skip_connect~2|')


def _space(**cfg):
    return SEARCH_SPACES.build(cfg)


# ----------------------------------------------------------------- macro
def test_macro_resnet_shapes_layers_and_errors():
    net = MacroResNet(
        groups=[dict(type='basic', kernel=5, width=8, depth=2, stride=1),
                dict(type='bottleneck', kernel=7, width=16, depth=1,
                     stride=2)],
        stem_channels=8, out_indices=(0, 1))
    outs = net(torch.rand(2, 3, 16, 16))
    assert [tuple(o.shape) for o in outs] == [(2, 8, 16, 16), (2, 16, 8, 8)]
    assert net.out_channels == (8, 16) and net.num_layers == 2 + 4 + 3
    assert net.layer1[0].conv1.kernel_size == (5, 5)
    assert net.layer1[0].downsample is None  # 8 -> 8, stride 1
    block = net.layer2[0]  # bottleneck 8 -> 4 -> 4 -> 16, kxk in the middle
    assert (block.conv1.out_channels, block.conv2.kernel_size,
            block.conv2.stride, block.conv3.out_channels) == (4, (7, 7),
                                                              (2, 2), 16)
    with pytest.raises(ValueError, match='type'):
        MacroResNet(groups=[dict(type='dense', kernel=3, width=8, depth=1,
                                 stride=1)])
    with pytest.raises(ValueError, match='odd'):
        MacroResNet(groups=[dict(type='basic', kernel=4, width=8, depth=1,
                                 stride=1)])
    with pytest.raises(ValueError, match='keys'):
        MacroResNet(groups=[dict(type='basic', kernel=3, width=8)])


def test_imagenet_preset_seed_is_resnet18():
    space = _space(type='MacroSpace', preset='imagenet_resnet18',
                   num_classes=1000)
    model = build_classifier(space.to_config(space.seed_name), 'seed')
    # torchvision's ResNet-18: 11,689,512 parameters, 1.82 GFLOPs at 224px
    assert count_params(model) == 11_689_512
    assert round(count_flops(model, (3, 224, 224)) / 1e9, 2) == 1.82
    assert model.backbone.num_layers == 18


def test_macro_space_mutations_follow_the_zen_rules():
    space = _space(type='MacroSpace', preset='cifar_resnet20',
                   num_classes=10)
    seed = space.seed_name
    assert seed == ('basic-k3-w16-d3-s1_basic-k3-w32-d3-s2_'
                    'basic-k3-w64-d3-s2')
    options = space.mutations(seed)
    # width 16 x {2.5, 2, 1.5, 1.25, 1, 0.8, 0.667, 0.5, 0.4}, rounded half
    # up to a multiple of 8 (at least 8): 40, 32, 24, 24, -, 16, 8, 8, 8
    assert options[(0, 'width')] == [40, 32, 24, 8]
    assert options[(0, 'kernel')] == [5, 7]
    assert options[(0, 'depth')] == [1, 2, 4, 5]
    rng = random.Random(0)
    name = seed
    for _ in range(200):
        child = space.mutate(name, rng)
        old, new = space.decode(name), space.decode(child)
        diffs = [(i, k) for i, (a, b) in enumerate(zip(old, new))
                 for k in a if a[k] != b[k]]
        assert len(diffs) == 1  # exactly one kernel, width or depth
        (i, kind), = diffs
        assert new[i][kind] in space.mutations(name)[(i, kind)]
        assert sum(2 * g['depth'] for g in new) + 2 <= 56  # max_layers
        name = child
    # deterministic given the rng
    assert [space.mutate(seed, random.Random(3)) for _ in range(2)] == \
        [space.mutate(seed, random.Random(3))] * 2
    samples = [space.sample(random.Random(1)) for _ in range(2)]
    assert samples[0] == samples[1] and space.decode(samples[0])

    cfg = space.to_config(name)
    assert cfg['head']['in_channels'] == space.decode(name)[-1]['width']
    name = 'basic-k5-w8-d1-s1_basic-k7-w16-d2-s2_basic-k3-w24-d1-s2'
    cfg = space.to_config(name)
    assert cfg['backbone']['groups'][1] == dict(
        type='basic', kernel=7, width=16, depth=2, stride=2)
    model = build_classifier(cfg, 'candidate')
    assert model(torch.rand(2, 3, 32, 32), mode='tensor').shape == (2, 10)

    imagenet = _space(type='MacroSpace', preset='imagenet_resnet18')
    options = imagenet.mutations(imagenet.seed_name)
    # 64 x {1.5, 1.25, 0.8, 0.667} -> 96, 80, 48 (51.2), 40 (42.7)
    assert options[(0, 'width')] == [96, 80, 48, 40]
    assert options[(0, 'depth')] == [1, 3]


def test_macro_space_user_groups_and_errors():
    space = _space(
        type='MacroSpace',
        groups=[dict(type='bottleneck', kernel=3, width=32, depth=1,
                     stride=1)],
        kernels=(3, 5), width_multipliers=(2, 0.5), depth_delta=1,
        max_layers=8, num_classes=5)
    assert space.seed_name == 'bottleneck-k3-w32-d1-s1'
    # 2 + 3 * depth <= 8: depth 2 fits, depth 3 would not
    assert space.mutations(space.seed_name) == {
        (0, 'kernel'): [5], (0, 'width'): [64, 16], (0, 'depth'): [2]}
    with pytest.raises(ValueError, match='EvolutionSearcher'):
        space.names()
    for bad in ('bottleneck-k3-w32-d3-s1',  # 11 layers > 8
                'basic-k3-w32-d1-s1',  # the seed's type is bottleneck
                'bottleneck-k7-w32-d1-s1',  # kernel not a choice
                'bottleneck-k3-w30-d1-s1',  # not a multiple of 8
                'bottleneck-k3-w32-d1-s2', 'nonsense', ''):
        with pytest.raises(ValueError, match='not a candidate'):
            space.decode(bad)
    with pytest.raises(ValueError, match='preset'):
        _space(type='MacroSpace', preset='resnet99')
    with pytest.raises(ValueError, match='preset or the seed groups'):
        _space(type='MacroSpace')
    with pytest.raises(ValueError, match='max_layers'):
        _space(type='MacroSpace', preset='cifar_resnet18', max_layers=10)
    with pytest.raises(ValueError, match='kernel'):
        _space(type='MacroSpace', preset='cifar_resnet20', kernels=(5, 7))


# ----------------------------------------------------------------- NB201
def test_nb201_arch_strings():
    ops = arch_to_ops(BEST_NB201)
    assert ops == ('nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3',
                   'skip_connect', 'nor_conv_3x3', 'skip_connect')
    assert ops_to_arch(ops) == BEST_NB201
    for bad in ('|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|',
                '|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|',
                '|none~0|+|none~0|none~1|', 'x'):
        with pytest.raises(ValueError, match='NAS-Bench-201 arch string'):
            arch_to_ops(bad)
    space = _space(type='NASBench201Space')
    names = space.names()
    assert len(names) == len(set(names)) == 15625 and BEST_NB201 in names
    rng = random.Random(0)
    for _ in range(50):
        child = space.mutate(BEST_NB201, rng)
        assert sum(a != b for a, b in zip(space.decode(child), ops)) == 1
    small = _space(type='NASBench201Space',
                   ops=('none', 'skip_connect', 'nor_conv_3x3'))
    assert len(small.names()) == 3**6
    with pytest.raises(ValueError, match='not in this NASBench201Space'):
        small.decode(BEST_NB201)
    with pytest.raises(ValueError, match='distinct ops'):
        _space(type='NASBench201Space', ops=('conv_5x5', ))


def _nb201_params(num_conv3x3, num_conv1x1=0, classes=10):
    """Hand count, C=16, N=5 (conv: no bias; BN: 2 params per channel).

    stem 3*16*9 + 32 = 464; reduction 16->32: 16*32*9 + 64 + 32*32*9 + 64
    + 16*32 = 14464; reduction 32->64: 32*64*9 + 128 + 64*64*9 + 128 +
    32*64 = 57600; last BN 128: skeleton 72656. One 3x3 edge in every cell:
    5 * (9*16^2 + 32 + 9*32^2 + 64 + 9*64^2 + 128) = 243040; a 1x1 edge:
    5 * (16^2 + 32 + 32^2 + 64 + 64^2 + 128) = 28000. Head 64*c + c.
    """
    return (72656 + 243040 * num_conv3x3 + 28000 * num_conv1x1 +
            64 * classes + classes)


def test_nb201_net_counts_match_a_hand_computation():
    space = _space(type='NASBench201Space', num_classes=10)
    model = build_classifier(space.to_config(BEST_NB201), 'nb201')
    assert count_params(model) == _nb201_params(3) == 802_426
    convs = [m for m in model.backbone.modules() if isinstance(m, nn.Conv2d)]
    # stem + 2 reductions x 3 convs + 15 cells x 3 conv3x3 edges
    assert len(convs) == 1 + 6 + 45
    pools = [m for m in model.backbone.modules()
             if isinstance(m, nn.AvgPool2d)]
    assert len(pools) == 15 + 2  # one edge per cell + reduction shortcuts
    mixed = ops_to_arch(['nor_conv_1x1', 'none', 'skip_connect',
                         'nor_conv_3x3', 'avg_pool_3x3', 'nor_conv_1x1'])
    model = build_classifier(space.to_config(mixed), 'nb201')
    assert count_params(model) == _nb201_params(1, 2)
    all_3x3 = ops_to_arch(['nor_conv_3x3'] * 6)
    model = build_classifier(space.to_config(all_3x3), 'nb201')
    assert count_params(model) == _nb201_params(6) == 1_531_546
    feats = model.backbone(torch.rand(2, 3, 32, 32))
    assert [tuple(f.shape) for f in feats] == [(2, 64, 8, 8)]
    assert (feats[0] >= 0).all()  # BN-ReLU before pooling


def test_nb201_cell_computes_the_dag():
    arch = ops_to_arch(['skip_connect', 'none', 'skip_connect', 'none',
                        'none', 'avg_pool_3x3'])
    net = NB201Net(arch, channels=2, num_cells=1)
    cell = net.stage1[0]
    x = torch.rand(1, 2, 4, 4)
    # node1 = x, node2 = 0 + node1 = x, node3 = 0 + 0 + avgpool(node2)
    pooled = nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x)
    torch.testing.assert_close(cell(x), pooled)
    with pytest.raises(ValueError, match='num_cells'):
        NB201Net(arch, num_cells=0)


# ----------------------------------------------------------------- args
def test_backbone_arg_space_with_mmpretrain_backbones():
    space = _space(type='BackboneArgSpace',
                   backbone=dict(type='MobileNetV2', out_indices=(6, )),
                   choices=dict(widen_factor=[0.5, 1.0]), num_classes=10)
    assert space.names() == ['widen_factor=0.5', 'widen_factor=1.0']
    state = torch.get_rng_state()
    # stage 6 of MobileNetV2 has 320 * widen_factor channels
    assert [space.to_config(n)['head']['in_channels']
            for n in space.names()] == [160, 320]
    assert torch.equal(torch.get_rng_state(), state)  # probes fork the RNG
    model = build_classifier(space.to_config('widen_factor=0.5'), 'c')
    assert model(torch.rand(2, 3, 32, 32), mode='tensor').shape == (2, 10)
    assert space.mutate('widen_factor=0.5', random.Random(0)) == \
        'widen_factor=1.0'

    space = _space(type='BackboneArgSpace',
                   backbone=dict(type='ResNet', stem_channels=8,
                                 base_channels=8),
                   choices=dict(strides=[(1, 2, 2, 2), (1, 1, 2, 2)],
                                depth=[18, 50]))
    names = space.names()
    assert names[0] == 'depth=18,strides=(1, 2, 2, 2)' and len(names) == 4
    for n in names:
        assert space.name(list(space.decode(n).values())) == n
    # 8 * 8 channels after 4 stages, x4 for bottlenecks
    assert space.to_config('depth=50,strides=(1, 1, 2, 2)')['head'][
        'in_channels'] == 256
    rng = random.Random(0)
    for _ in range(10):
        child = space.mutate(names[0], rng)
        a, b = space.decode(names[0]), space.decode(child)
        assert sum(a[k] != b[k] for k in a) == 1
    with pytest.raises(ValueError, match='not a candidate'):
        space.decode('depth=34,strides=(1, 2, 2, 2)')


def test_backbone_arg_space_errors():
    with pytest.raises(ValueError, match="'width' is not an argument of"):
        _space(type='BackboneArgSpace', backbone=dict(type='MobileNetV2'),
               choices=dict(width=[1, 2]))
    with pytest.raises(ValueError, match='both fixed'):
        _space(type='BackboneArgSpace',
               backbone=dict(type='ResNet', depth=18),
               choices=dict(depth=[18, 34]))
    with pytest.raises(KeyError, match='not a registered'):
        _space(type='BackboneArgSpace', backbone=dict(type='NoSuchNet'),
               choices=dict(depth=[1]))
    with pytest.raises(ValueError, match='non-empty lists'):
        _space(type='BackboneArgSpace', backbone=dict(type='ResNet'),
               choices=dict(depth=[]))
    space = _space(type='BackboneArgSpace',
                   backbone=dict(type='ResNet', base_channels=8),
                   choices=dict(depth=[18, 19]))
    with pytest.raises(ValueError, match="'depth=19' fails to build"):
        space.to_config('depth=19')
