"""Registries: mmpretrain's names resolve from mmkd; mmkd's names are
class names; every node has a location."""
import pytest
from mmengine.registry import DefaultScope

import mmkd.registry as reg


def test_every_node_has_locations():
    for name in reg.__all__:
        assert getattr(reg, name)._locations, name


@pytest.mark.parametrize('registry, name', [
    (reg.MODELS, 'ImageClassifier'), (reg.MODELS, 'LinearClsHead'),
    (reg.MODELS, 'ResNet'), (reg.DATASETS, 'CustomDataset'),
    (reg.TRANSFORMS, 'PackInputs'), (reg.METRICS, 'Accuracy'),
    (reg.HOOKS, 'CheckpointHook'), (reg.OPTIMIZERS, 'SGD'),
    (reg.PARAM_SCHEDULERS, 'MultiStepLR'), (reg.RUNNERS, 'KDRunner'),
    (reg.MODELS, 'SingleTeacherDistiller'), (reg.MODELS, 'CIFARResNet'),
    (reg.DATASETS, 'CIFAR10Mini'), (reg.HOOKS, 'RNGStateHook'),
    (reg.DISTILL_LOSSES, 'KDLoss'), (reg.CONNECTORS, 'ConvConnector'),
])
def test_names_resolve_in_mmkd_scope(registry, name):
    with DefaultScope.overwrite_default_scope('mmkd'):
        assert registry.get(name) is not None, name


def test_registered_names_equal_class_names():
    for registry in (reg.MODELS, reg.DISTILL_LOSSES, reg.CONNECTORS,
                     reg.DATASETS, reg.HOOKS, reg.RUNNERS):
        registry.import_from_location()
        for name, cls in registry.module_dict.items():
            assert name == cls.__name__, (registry.name, name)
