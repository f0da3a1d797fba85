"""Spaces say a candidate's params and FLOPs from their description,
exactly as mmengine's counter gives them on the built model, so budgets
are checked without building candidates."""
import random

import pytest
from mmengine.config import Config

import mmkd.models.algorithms as algorithms
from mmkd.engine import SearchRunner
from mmkd.models.algorithms import build_classifier
from mmkd.registry import SEARCH_SPACES
from mmkd.search.proxies import count_flops, count_params
from mmkd.search.spaces import SearchSpace

from test_search.test_search_loop import write_search_config


def _counted(space, name, shape):
    model = build_classifier(space.to_config(name), 'test')
    return count_params(model), count_flops(model, shape)


@pytest.mark.parametrize('cfg, shape, extremes', [
    (dict(type='CIFARResNetDepthSpace', num_classes=10), (3, 32, 32),
     ['111', '777']),
    (dict(type='CIFARResNetDepthSpace', depths=(2, 4), widths=(8, 16, 24),
          num_classes=7), (3, 16, 16), ['222', '444']),
    (dict(type='NASBench201Space', channels=8, num_cells=2), (3, 32, 32),
     ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|'
      'nor_conv_3x3~1|nor_conv_3x3~2|']),
    (dict(type='NASBench201Space', ops=('skip_connect', 'nor_conv_1x1',
                                        'avg_pool_3x3'), num_cells=1),
     (3, 24, 24), []),
    (dict(type='MacroSpace', preset='cifar_resnet20', num_classes=10),
     (3, 32, 32), []),
    (dict(type='MacroSpace', preset='imagenet_resnet18', num_classes=1000),
     (3, 64, 64), []),
    (dict(type='MacroSpace', num_classes=10, groups=[
        dict(type='bottleneck', kernel=3, width=32, depth=1, stride=1),
        dict(type='bottleneck', kernel=5, width=48, depth=2, stride=2)]),
     (3, 30, 30), []),
], ids=['S1', 'S1-other-widths', 'NB201', 'NB201-ops-subset',
        'macro-cifar', 'macro-imagenet-maxpool', 'macro-bottleneck'])
def test_space_costs_equal_mmengines_count_on_built_models(cfg, shape,
                                                           extremes):
    space = SEARCH_SPACES.build(cfg)
    rng = random.Random(0)
    names = extremes + [space.sample(rng) for _ in range(4)]
    if hasattr(space, 'seed_name'):
        names.append(space.seed_name)
    for name in names:
        assert space.cost(name, shape) == _counted(space, name, shape), name


@pytest.mark.parametrize('cfg', [
    dict(type='BackboneArgSpace', backbone=dict(type='CIFARResNet'),
         choices=dict(depth=[8, 14]), num_classes=10),
])
def test_a_space_that_cannot_say_it_returns_none(cfg):
    space = SEARCH_SPACES.build(cfg)
    assert isinstance(space, SearchSpace)
    name = space.sample(random.Random(0))
    assert space.cost(name, (3, 32, 32)) is None


def test_an_nb201_budget_filters_every_cell_without_building(
        tmp_path, monkeypatch):
    builds = []
    original = algorithms.build_classifier
    monkeypatch.setattr(algorithms, 'build_classifier',
                        lambda *a, **k: builds.append(1) or original(*a, **k))
    path = write_search_config(
        tmp_path / 'c.py', tmp_path / 'w', constraints=dict(max_params=10),
        searcher=dict(type='ExhaustiveSearcher'))
    cfg = Config.fromfile(path)
    cfg.train_cfg.space = dict(type='NASBench201Space', channels=4,
                               num_cells=1, num_classes=10)
    cfg.train_cfg.extra_proxies = {}
    cfg.train_cfg.proxy = dict(type='Params')
    with pytest.raises(RuntimeError,
                       match='none of its 15625 candidates meets them'):
        SearchRunner.from_cfg(cfg).train()
    # 15,625 cells judged; only the space's calibration nets were built
    assert len(builds) <= 5
