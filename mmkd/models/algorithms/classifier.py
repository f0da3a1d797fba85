"""Build a classifier (teacher or student) from a config, a file or a module."""
import copy
from typing import Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmkd.registry import MODELS

__all__ = ['build_classifier']


def build_classifier(cfg: Union[dict, str, nn.Module], field: str) -> nn.Module:
    """Build a classifier from a config dict, a config file or a module.

    Args:
        cfg (dict | str | nn.Module): A model config (any mmkd or mmpretrain
            classifier, e.g. ``dict(type='ImageClassifier', ...)``), the path
            of a config file whose ``model`` is used, or a built module.
        field (str): The config field, for error messages.
    """
    if isinstance(cfg, nn.Module):
        model = cfg
    else:
        if isinstance(cfg, str):
            try:
                cfg = Config.fromfile(cfg).model
            except FileNotFoundError as e:
                raise FileNotFoundError(
                    f'{field}: config file {cfg!r} does not exist; give a '
                    'model dict or an existing config path.') from e
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
