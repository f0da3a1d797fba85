"""Heo et al., "A Comprehensive Overhaul of Feature Distillation", ICCV 2019
(clovaai/overhaul-distillation): the distiller and its teacher side.

OFD needs one thing from the teacher besides its features: the per-channel
margin of the margin-ReLU, the mean of the teacher's negative pre-ReLU
responses, computed from the BN layer before that ReLU.
:class:`BNMarginTeacher` declares each margin as a named output next to
``t_logits``, so a config passes it to :class:`~mmkd.models.losses.OFDLoss`
like any other tensor.
"""
import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .taps import nearest
from .teachers import Teacher

__all__ = ['bn_margin', 'BNMarginTeacher', 'OFDDistiller']


def bn_margin(weight: torch.Tensor, bias: torch.Tensor,
              min_prob: float = 1e-3) -> torch.Tensor:
    """Per-channel margin ``E[x | x < 0]`` for ``x ~ N(bias, weight^2)``.

    A BN layer's output in channel ``c`` is modelled as Gaussian with mean
    ``beta_c`` and standard deviation ``|gamma_c|``; with
    ``z = beta / sigma``:

    .. math::
        m = \\beta - \\sigma \\, \\frac{\\varphi(z)}{\\Phi(-z)}

    and ``m = -3 sigma`` where ``Phi(-z) <= min_prob`` (almost no negative
    responses), as the official ``get_margin_from_BN``.

    Args:
        weight (Tensor): BN ``gamma``, shape ``[C]``.
        bias (Tensor): BN ``beta``, shape ``[C]``.
        min_prob (float): Probability of a negative response below which
            the margin is ``-3 sigma``. Defaults to 1e-3.

    Returns:
        Tensor: ``[C]`` margins (all negative).
    """
    sigma = weight.detach().abs().double()
    mean = bias.detach().double()
    z = mean / sigma
    prob_neg = torch.special.ndtr(-z)
    pdf = torch.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    margin = mean - sigma * pdf / prob_neg.clamp(min=1e-300)
    margin = torch.where(prob_neg > min_prob, margin, -3 * sigma)
    return margin.to(weight.dtype)


class BNMarginTeacher(Teacher):
    """One teacher that also outputs OFD margins from its BN layers.

    Outputs ``t_logits`` and, for each ``{name: path}`` in ``margins``, a
    ``[C]`` tensor ``bn_margin(bn.weight, bn.bias)`` of the BN layer at
    ``path`` (computed every forward: a few values per channel, and right
    even if the teacher trains).

    Args:
        model (dict | str | nn.Module): The teacher classifier.
        ckpt (str, optional): Its weights.
        margins (dict[str, str]): ``{name: 'teacher.backbone...norm2'}``.
        **kwargs: ``trainable``, ``keep_eval``.
    """

    def __init__(self, model, ckpt: Optional[str] = None,
                 margins: Optional[Dict[str, str]] = None, **kwargs) -> None:
        super().__init__(model, ckpt, **kwargs)
        self.margin_bns: Dict[str, _BatchNorm] = {}
        named = {f'teacher.{n}' if n else 'teacher': m
                 for n, m in self.teacher.named_modules()}
        bns = [n for n, m in named.items() if isinstance(m, _BatchNorm)]
        for name, path in (margins or {}).items():
            field = f'model.margins.{name}'
            if not isinstance(path, str) or path not in named:
                raise ValueError(
                    f'{field}={path!r} is not a teacher module; nearest BN '
                    f'layers: {nearest(str(path), bns)}.')
            bn = named[path]
            if not isinstance(bn, _BatchNorm) or not bn.affine:
                raise ValueError(
                    f'{field}={path!r} is a {type(bn).__name__}, not an '
                    'affine BN layer; name the BN before the tapped ReLU, '
                    f'e.g. {nearest(path, bns, 3)}.')
            self.margin_bns[name] = bn

    def output_names(self) -> List[str]:
        return ['t_logits'] + list(self.margin_bns)

    def forward(self, inputs, data_samples=None):
        out = super().forward(inputs, data_samples)
        for name, bn in self.margin_bns.items():
            out[name] = bn_margin(bn.weight, bn.bias)
        return out


@MODELS.register_module()
class OFDDistiller(BaseDistiller):
    """OFD: a single-teacher distiller whose teacher also gives margins.

    Everything else is :class:`SingleTeacherDistiller`'s: taps (pre-ReLU
    features, e.g. ``'student.backbone.layer3.2.relu2:input'`` on mmkd's
    CIFAR ResNets or ``'teacher.backbone.layer4.1:preact'`` on mmpretrain's
    ResNet), connectors (``OFDConnector``, conv + BN) and one
    ``OFDLoss`` per stage with its stage weight as ``loss_weight``::

        margins=dict(t_margin3='teacher.backbone.layer3.8.norm2'),
        distill_losses=dict(loss_ofd_3=dict(
            type='OFDLoss', loss_weight=1e-3,
            inputs=dict(preds_S='s_feat3', preds_T='t_pre3',
                        margin='t_margin3')))

    The other arguments are :class:`SingleTeacherDistiller`'s (``student``,
    ``teacher``, ``teacher_ckpt``, ``teacher_trainable``, ``teacher_eval``;
    ``student_ckpt``, ``student_loss_weight``, ``taps``, ``connectors``,
    ``distill_losses``, ``check_input_shape`` and ``data_preprocessor`` are
    passed on to :class:`BaseDistiller` as keyword arguments).

    Args:
        margins (dict[str, str]): ``{name: BN module path}`` in the teacher;
            each name is a ``[C]`` tensor input (:func:`bn_margin`).
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 margins: Dict[str, str],
                 teacher_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 **kwargs) -> None:
        # kwargs: the student side's arguments, as BaseDistiller's
        student = build_classifier(student, 'model.student')
        if not isinstance(margins, dict) or not margins:
            raise ValueError(
                'model.margins must be a non-empty dict {name: teacher BN '
                "path}, e.g. dict(t_margin3='teacher.backbone.layer3.8."
                "norm2'); OFD needs the teacher's margins.")
        super().__init__(
            student=student,
            teacher_side=BNMarginTeacher(teacher, teacher_ckpt,
                                         margins=margins,
                                         trainable=teacher_trainable,
                                         keep_eval=teacher_eval),
            **kwargs)
