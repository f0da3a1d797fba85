"""Build a classifier (teacher or student) from a config, a file or a module."""
import copy
from typing import Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmkd.registry import MODELS

__all__ = ['build_classifier']


def _model_of_config_file(path: str, field: str) -> dict:
    """The ``model`` of a config file, or of a scope-prefixed package config
    (``'mmpretrain::resnet/resnet18_8xb16_cifar10.py'``), as mmengine's own
    ``_base_`` inheritance reads it."""
    if '::' in path:
        from mmengine.hub import get_config
        try:
            return get_config(path).model
        except (FileNotFoundError, ModuleNotFoundError, ValueError) as e:
            raise FileNotFoundError(
                f'{field}: {path!r} is not a config of an installed package '
                f'({e}); check the package name and the path inside its '
                'configs/ folder.') from None
    try:
        return Config.fromfile(path).model
    except FileNotFoundError:
        raise FileNotFoundError(
            f'{field}: config file {path!r} does not exist; give a '
            'model dict or an existing config path.') from None


def build_classifier(cfg: Union[dict, str, nn.Module], field: str) -> nn.Module:
    """Build a classifier from a config dict, a config file or a module.

    Args:
        cfg (dict | str | nn.Module): A model config (any mmkd or mmpretrain
            classifier, e.g. ``dict(type='ImageClassifier', ...)``), the path
            of a config file whose ``model`` is used (a scope-prefixed one
            such as ``'mmpretrain::resnet/resnet18_8xb16_cifar10.py'`` too),
            or a built module.
        field (str): The config field, for error messages.
    """
    if isinstance(cfg, nn.Module):
        model = cfg
    else:
        if isinstance(cfg, str):
            cfg = _model_of_config_file(cfg, field)
        if not isinstance(cfg, dict):
            raise TypeError(f'{field} must be a model config dict, a config '
                            f'file path or an nn.Module, got {type(cfg)}.')
        with DefaultScope.overwrite_default_scope('mmkd'):
            model = MODELS.build(copy.deepcopy(cfg))
    for attr in ('loss', 'predict', 'head'):
        if getattr(model, attr, None) is None:
            raise TypeError(
                f'{field} builds a {type(model).__name__}, which has no '
                f'`{attr}`; use a classifier such as mmpretrain\'s '
                'ImageClassifier (backbone, neck, head).')
    return model
