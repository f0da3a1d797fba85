"""The S1 space and its backbone."""
import random

import pytest
import torch

from mmkd.models.algorithms import build_classifier
from mmkd.models.backbones import CIFARResNet, CIFARStageResNet
from mmkd.registry import SEARCH_SPACES


def test_stage_resnet_equals_cifar_resnet_for_equal_depths():
    torch.manual_seed(0)
    a = CIFARResNet(depth=20)
    torch.manual_seed(0)
    b = CIFARStageResNet(stage_blocks=(3, 3, 3))
    assert a.state_dict().keys() == b.state_dict().keys()
    x = torch.rand(2, 3, 32, 32)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x)[0], b(x)[0])
    net = CIFARStageResNet(stage_blocks=(1, 2, 3), widths=(4, 4, 8),
                           out_indices=(0, 1, 2))
    assert [len(net.layer1), len(net.layer2), len(net.layer3)] == [1, 2, 3]
    assert [tuple(o.shape) for o in net(torch.rand(1, 3, 8, 8))] == [
        (1, 4, 8, 8), (1, 4, 4, 4), (1, 8, 2, 2)]
    with pytest.raises(ValueError, match='stage_blocks'):
        CIFARStageResNet(stage_blocks=(0, 3, 3))


def test_s1_space():
    space = SEARCH_SPACES.build(dict(type='CIFARResNetDepthSpace'))
    names = space.names()
    assert len(names) == 64 and len(set(names)) == 64
    assert '557' in names and '111' in names and '777' in names
    cfg = space.to_config('557')
    assert cfg['backbone'] == dict(type='CIFARStageResNet',
                                   stage_blocks=(5, 5, 7),
                                   widths=(16, 32, 64))
    assert cfg['head']['num_classes'] == 100
    model = build_classifier(cfg, 'candidate')
    assert len(model.backbone.layer3) == 7
    rng = random.Random(0)
    for _ in range(20):
        name = space.sample(rng)
        child = space.mutate(name, rng)
        assert child in names
        assert sum(a != b for a, b in zip(name, child)) == 1
    for bad in ('55', '558', 'abc'):
        with pytest.raises(ValueError, match='not a candidate'):
            space.decode(bad)
    wide = SEARCH_SPACES.build(dict(type='CIFARResNetDepthSpace',
                                    depths=(1, 11)))
    assert wide.to_config('11-1-11')['backbone']['stage_blocks'] == (11, 1,
                                                                     11)
