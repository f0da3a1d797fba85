"""KD-based zero-cost proxies: a distillation loss on random networks.

DisWOT (Dong et al., CVPR 2023, Sec. 4.4) evaluates distillation losses
between randomly initialised teacher and candidate as training-free proxies.
"""
import inspect
from typing import Dict, Optional

import torch
import torch.nn as nn

from mmkd.registry import DISTILL_LOSSES, PROXIES
from .base import BaseProxy, apply_init, forward_parts, frozen_copy

#: Names of the tensors a loss may take; logits and the feature before
#: pooling (``feat``) of student and teacher, and the labels.
TENSOR_NAMES = ('s_logits', 't_logits', 's_feat', 't_feat', 'gt_labels')


@PROXIES.register_module()
class DistillLossProxy(BaseProxy):
    """Score ``-loss(student, teacher)`` for any registered distill loss.

    The teacher's tensors are computed once in :meth:`prepare` (no grad)
    and reused for every candidate.

    Args:
        loss (dict): A ``DISTILL_LOSSES`` config, e.g.
            ``dict(type='KDLoss', tau=4)``.
        inputs (dict): ``{forward argument: tensor name}``, names from
            ``s_logits, t_logits, s_feat, t_feat, gt_labels``. Defaults to
            ``dict(preds_S='s_logits', preds_T='t_logits')``.
        feat_index (int): Backbone output used as ``*_feat``. Defaults -1.
        init (str, optional): ``'normal'`` (N(0, 1), as DisWOT) or None.
            Defaults to ``'normal'``.

    Examples:
        >>> proxy = PROXIES.build(dict(
        ...     type='DistillLossProxy', loss=dict(type='SPLoss'),
        ...     inputs=dict(feats_S='s_feat', feats_T='t_feat')))
    """

    needs_teacher = True

    def __init__(self,
                 loss: dict,
                 inputs: Optional[Dict[str, str]] = None,
                 feat_index: int = -1,
                 init: Optional[str] = 'normal') -> None:
        DISTILL_LOSSES.import_from_location()
        loss = dict(loss)
        if loss.get('type') not in DISTILL_LOSSES.module_dict:
            raise KeyError(
                f"DistillLossProxy: loss.type={loss.get('type')!r} is not a "
                f'registered distill loss; choose from '
                f'{sorted(DISTILL_LOSSES.module_dict)}.')
        self.loss = DISTILL_LOSSES.build(loss)
        inputs = dict(inputs or dict(preds_S='s_logits', preds_T='t_logits'))
        params = inspect.signature(self.loss.forward).parameters
        for arg, name in inputs.items():
            if arg not in params:
                raise ValueError(
                    f'DistillLossProxy.inputs: {loss["type"]}.forward has no '
                    f'argument {arg!r}; its arguments are {list(params)}.')
            if name not in TENSOR_NAMES:
                raise ValueError(
                    f'DistillLossProxy.inputs.{arg}={name!r}; use one of '
                    f'{TENSOR_NAMES}.')
        self.inputs = inputs
        self.feat_index = feat_index
        apply_init(nn.Identity(), init)
        self.init = init
        self._teacher: Optional[Dict[str, torch.Tensor]] = None

    @torch.no_grad()
    def prepare(self, teacher, inputs, labels, teacher_pretrained=False):
        teacher = frozen_copy(teacher)
        if not teacher_pretrained:
            apply_init(teacher, self.init)
        teacher.train()
        feat, logits = forward_parts(teacher, inputs, self.feat_index)
        self._teacher = dict(t_feat=feat, t_logits=logits)

    @torch.no_grad()
    def score(self, model, inputs, labels) -> float:
        if self._teacher is None:
            raise RuntimeError('DistillLossProxy: call prepare(teacher, '
                               'inputs, labels) once before scoring.')
        apply_init(model, self.init)
        model.train()
        feat, logits = forward_parts(model, inputs, self.feat_index)
        tensors = dict(self._teacher, s_feat=feat, s_logits=logits,
                       gt_labels=labels)
        args = {arg: tensors[name] for arg, name in self.inputs.items()}
        try:
            value = self.loss(**args)
        except (RuntimeError, ValueError) as e:
            shapes = {a: tuple(t.shape) for a, t in args.items()}
            raise type(e)(f'DistillLossProxy: {type(self.loss).__name__} '
                          f'failed on inputs {shapes}: {e}') from e
        return -float(value)
