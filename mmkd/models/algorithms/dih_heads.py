"""DIH's heads: where they mount on a teacher, how they are built and loaded.

Used by :class:`~mmkd.models.algorithms.dih_finetuner.HeadFinetuner`
(stage 2, which trains them) and
:class:`~mmkd.models.algorithms.dih.DIHDistiller` (stage 3, which distils
from them); the default mount points are listed in :mod:`mmkd.models.algorithms.dih`.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmkd.registry import CONNECTORS
from mmkd.utils.checkpoint import (extract_state_dict, load_checkpoint_file,
                                   load_state_strict)
from .taps import nearest

__all__ = [
    'DEFAULT_MOUNTS', 'default_mounts', 'feature_map_shapes', 'mount_heads',
    'load_teacher_and_heads'
]

#: Default mount points (module paths) per teacher backbone class.
DEFAULT_MOUNTS = {
    'CIFARResNet': ('layer1', 'layer2', 'layer3'),
    'WideResNet': ('layer1', 'layer2', 'layer3'),
    'ResNet_CIFAR': ('layer1', 'layer2', 'layer3', 'layer4'),
    'ResNet': ('layer1', 'layer2', 'layer3', 'layer4'),
    'CIFARVGG': ('pool0', 'pool1', 'pool2', 'block4'),
}


def default_mounts(teacher: nn.Module) -> List[str]:
    """The default mount paths for a teacher, or a ValueError."""
    backbone = type(getattr(teacher, 'backbone', None)).__name__
    if backbone not in DEFAULT_MOUNTS:
        raise ValueError(
            f'model.mounts is None and the teacher backbone {backbone} has no '
            f'default mount points (defaults exist for '
            f'{sorted(DEFAULT_MOUNTS)}); give mounts=[...], module paths '
            "such as 'teacher.backbone.layer1'.")
    return [f'teacher.backbone.{name}' for name in DEFAULT_MOUNTS[backbone]]


@torch.no_grad()
def feature_map_shapes(root: nn.Module, teacher: nn.Module,
                       input_shape: Sequence[int]) -> Dict[str, tuple]:
    """Output shape of every teacher module on a dummy batch.

    Paths are relative to ``root`` (e.g. ``'teacher.backbone.layer1'``);
    modules that run more than once per forward are left out. The teacher
    runs in eval mode, so its BN statistics do not move.
    """
    prefix = next(name for name, m in root.named_children() if m is teacher)
    shapes, calls, handles = {}, {}, []
    for name, module in teacher.named_modules():
        if not name:
            continue
        path = f'{prefix}.{name}'

        def hook(m, args, out, path=path):
            calls[path] = calls.get(path, 0) + 1
            if isinstance(out, torch.Tensor):
                shapes.setdefault(path, tuple(out.shape))

        handles.append(module.register_forward_hook(hook))
    was_training = teacher.training
    teacher.eval()
    try:
        teacher(torch.zeros((2, ) + tuple(input_shape)), mode='tensor')
    except RuntimeError as e:
        raise ValueError(f'model.input_shape={tuple(input_shape)}: the '
                         f'teacher fails on a dummy batch of that shape '
                         f'({e}); give the (C, H, W) of the training '
                         'images.') from e
    finally:
        teacher.train(was_training)
        for handle in handles:
            handle.remove()
    return {p: s for p, s in shapes.items() if calls[p] == 1}


def mount_heads(root: nn.Module, teacher: nn.Module,
                mounts: Optional[Sequence[str]], head: dict,
                input_shape: Sequence[int]
                ) -> Tuple['OrderedDict[str, str]', nn.ModuleDict]:
    """Validate mount paths and build one head per mount.

    Args:
        root (nn.Module): The algorithm (paths start from it).
        teacher (nn.Module): The teacher classifier (``root.teacher``).
        mounts (Sequence[str], optional): Module paths such as
            ``'teacher.backbone.layer1'``; None takes the defaults of the
            teacher's backbone (see the module docstring).
        head (dict): Head config, e.g. ``dict(type='DIHHead')``;
            ``in_shape`` and ``num_classes`` are filled in.
        input_shape (Sequence[int]): ``(C, H, W)`` of the training images.

    Returns:
        tuple: ``{'head1': path, ...}`` and the heads (``nn.ModuleDict``
        with keys ``head1`` ... ``headk``).

    Raises:
        ValueError: A path names no module of the teacher, or its output is
            not a 4-d map; the message lists the valid mount paths.
    """
    if mounts is None:
        mounts = default_mounts(teacher)
    if isinstance(mounts, str) or not isinstance(mounts, (list, tuple)) \
            or not mounts:
        raise TypeError('model.mounts must be a non-empty list of module '
                        "paths such as ['teacher.backbone.layer1', ...], got "
                        f'{mounts!r}.')
    shapes = feature_map_shapes(root, teacher, input_shape)
    valid = [p for p, s in shapes.items() if len(s) == 4]
    stages = [p for p in valid if p.count('.') == 2] or valid[:10]
    shape_txt = 'x'.join(str(s) for s in input_shape)
    modules = dict(root.named_modules())
    num_classes = getattr(getattr(teacher, 'head', None), 'num_classes', None)
    if not isinstance(num_classes, int):
        raise TypeError('the teacher has no head.num_classes; DIH heads '
                        'predict the teacher\'s classes, use an '
                        'ImageClassifier with a classification head.')
    if not isinstance(head, dict) or 'type' not in head:
        raise TypeError("model.head must be a connector config such as "
                        f"dict(type='DIHHead'), got {head!r}.")
    if head['type'] not in CONNECTORS.module_dict:
        CONNECTORS.import_from_location()
    paths = OrderedDict()
    heads = nn.ModuleDict()
    for i, path in enumerate(mounts):
        field = f'model.mounts[{i}]={path!r}'
        if path not in modules or not path.startswith('teacher.'):
            raise ValueError(
                f'{field} is not a module of the teacher; valid mount paths '
                f'(4-d outputs at input {shape_txt}), nearest first: '
                f'{nearest(str(path), valid)}; stage outputs: {stages}.')
        if path not in shapes:
            raise ValueError(
                f'{field} runs more than once per forward (or returns no '
                'tensor); mount on its parent or on a module that runs once,'
                f' e.g. {nearest(path, valid)}.')
        if len(shapes[path]) != 4:
            raise ValueError(
                f'{field} outputs a {list(shapes[path])} tensor at input '
                f'{shape_txt}, not a feature map [N, C, H, W]; valid mount '
                f'paths, nearest first: {nearest(path, valid)}; stage '
                f'outputs: {stages}.')
        if path in paths.values():
            raise ValueError(f'{field} is mounted twice.')
        cfg = dict(head)
        cfg.setdefault('in_shape', shapes[path][1:])
        given = cfg.setdefault('num_classes', num_classes)
        if given != num_classes:
            raise ValueError(f'model.head.num_classes={given} but the teacher '
                             f'predicts {num_classes} classes; leave it out.')
        name = f'head{i + 1}'
        paths[name] = path
        heads[name] = CONNECTORS.build(cfg)
    return paths, heads


def load_teacher_and_heads(teacher: nn.Module, heads: nn.ModuleDict,
                           mounts: Dict[str, str], path: str,
                           field: str) -> None:
    """Load a :class:`HeadFinetuner` checkpoint into a teacher and heads.

    Each head takes its selected weights (``best_heads.<name>``) or, if it
    was never validated, its last weights (``heads.<name>``, a warning).
    """
    try:
        checkpoint = load_checkpoint_file(path)
    except (FileNotFoundError, RuntimeError) as e:
        raise type(e)(f'{field}: {e}') from None  # mmkd's message once
    state = extract_state_dict(checkpoint)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    saved = sorted({k.split('.')[1] for k in state if k.startswith('heads.')})
    if not saved:
        raise ValueError(
            f"{field}={path!r} holds no DIH heads (no 'heads.*' keys): point "
            "it at the head fine-tuning stage's checkpoint (HeadFinetuner), "
            "which holds the teacher and its heads ('{heads}' in a pipeline).")
    if saved != sorted(heads):
        raise ValueError(
            f'{field}={path!r} holds heads {saved} but the model mounts '
            f'{sorted(heads)}; use the same mounts in both stages.')
    load_state_strict(teacher, _sub_state(state, 'teacher.'), path, field,
                      'teacher')
    best_acc = state.get('best_acc')
    for j, name in enumerate(heads):
        if best_acc is not None and float(best_acc[j]) >= 0:
            prefix = f'best_heads.{name}.'
        else:
            prefix = f'heads.{name}.'
            print_log(
                f'{field}: {name} ({mounts[name]}) was never validated (no '
                'HeadSelectHook, or no validation); using its last weights.',
                logger='current', level=30)
        load_state_strict(heads[name], _sub_state(state, prefix), path, field,
                          f'{name} on {mounts[name]}')


def _sub_state(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}
