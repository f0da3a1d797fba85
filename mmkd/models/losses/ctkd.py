"""Li et al., "Curriculum Temperature for Knowledge Distillation", AAAI 2023.

CTKD learns the distillation temperature adversarially: the temperature
module is trained through a gradient-reversal layer (GRL), so it *raises*
the distillation loss the student lowers, and the reversal weight ``lambda``
follows a cosine curriculum from easy (0) to hard (1). The modules here are
the temperature of a logit loss: ``KDLoss(temperature=dict(type=
'GlobalTemperature'))`` or ``DKDLoss(temperature=...)``, with or without
``logit_stand`` (LS).
"""
import math
from typing import Union

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from ..interfaces import EpochAware, NeedsOptimizer

__all__ = [
    'grad_reverse', 'cosine_reversal_weight', 'GlobalTemperature',
    'InstanceTemperature', 'build_temperature'
]


class _GradReverse(torch.autograd.Function):
    """Identity forward; the backward multiplies the gradient by
    ``-lambda_``."""

    @staticmethod
    def forward(ctx, x, lambda_):
        ctx.lambda_ = lambda_
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lambda_ * grad, None


def grad_reverse(x: torch.Tensor, lambda_: float) -> torch.Tensor:
    """Gradient reversal (Ganin & Lempitsky 2015): ``x`` forward,
    ``-lambda_ * grad`` backward."""
    return _GradReverse.apply(x, float(lambda_))


def cosine_reversal_weight(epoch: int, epochs: int, start: float = 0.,
                           end: float = 1.) -> float:
    """CTKD's cosine curriculum on the reversal weight.

    .. math::
        \\lambda(e) = \\lambda_s + (\\lambda_e - \\lambda_s) \\,
            \\tfrac{1}{2}\\big(1 - \\cos(\\pi \\min(e, E) / E)\\big)

    for epoch ``e`` counted from 1 (``e <= 0`` gives ``start``). The
    official code (``CosineDecay`` with ``decay_max=0``, ``decay_min=-1``,
    ``decay_loops=10``) computes ``-lambda(e)`` and multiplies the
    gradient by it; here the GRL negates and ``lambda`` is positive.
    """
    e = min(max(epoch, 0), epochs)
    return start + (end - start) * 0.5 * (1 - math.cos(math.pi * e / epochs))


class _LearnableTemperature(EpochAware, NeedsOptimizer, nn.Module):
    """``tau = t_start + t_range * sigmoid(GRL(raw, lambda))``."""

    def __init__(self, t_start: float, t_range: float, curriculum_epochs: int,
                 lambda_start: float, lambda_end: float) -> None:
        super().__init__()
        name = type(self).__name__
        if t_start <= 0 or t_range < 0:
            raise ValueError(f'{name}: the temperature t_start + t_range * '
                             'sigmoid(.) must stay positive; set t_start > 0 '
                             f'and t_range >= 0, got {t_start}, {t_range}.')
        if curriculum_epochs < 1:
            raise ValueError(f'{name}: curriculum_epochs must be >= 1, got '
                             f'{curriculum_epochs}.')
        self.t_start = t_start
        self.t_range = t_range
        self.curriculum_epochs = curriculum_epochs
        self.lambda_start = lambda_start
        self.lambda_end = lambda_end
        self.reversal_weight = None

    def set_epoch(self, epoch: int) -> None:
        """Set the reversal weight of epoch ``epoch`` (from 1; called by
        ``LossEpochHook``)."""
        self.reversal_weight = cosine_reversal_weight(
            epoch, self.curriculum_epochs, self.lambda_start, self.lambda_end)

    def _tau(self, raw: torch.Tensor) -> torch.Tensor:
        if self.reversal_weight is None:
            if self.training:
                raise RuntimeError(
                    f'{type(self).__name__}: the reversal weight was never '
                    'set; keep LossEpochHook in custom_hooks (configs/_base_/'
                    'default_runtime.py), which calls set_epoch before each '
                    'epoch.')
            lambda_ = self.lambda_start
        else:
            lambda_ = self.reversal_weight
        return self.t_start + self.t_range * torch.sigmoid(
            grad_reverse(raw, lambda_))


@MODELS.register_module()
class GlobalTemperature(_LearnableTemperature):
    """CTKD's global temperature: one learnable scalar for every sample.

    ``tau = t_start + t_range * sigmoid(GRL(t))`` with ``t`` a parameter
    initialised to ``init`` (the official ``Global_T``: 1, so ``tau``
    starts at ``1 + 20 sigmoid(1) = 15.6``). The parameter trains with
    the student's optimizer; the GRL makes it ascend the distillation loss.

    Args:
        t_start (float): Smallest temperature. Defaults to 1.0.
        t_range (float): Temperature range. Defaults to 20.0.
        init (float): Initial raw value ``t``. Defaults to 1.0.
        curriculum_epochs (int): Epochs of the cosine rise of the reversal
            weight. Defaults to 10.
        lambda_start (float): Reversal weight before the curriculum.
            Defaults to 0.0.
        lambda_end (float): Reversal weight after it. Defaults to 1.0.
    """

    def __init__(self, t_start: float = 1., t_range: float = 20.,
                 init: float = 1., curriculum_epochs: int = 10,
                 lambda_start: float = 0., lambda_end: float = 1.) -> None:
        super().__init__(t_start, t_range, curriculum_epochs, lambda_start,
                         lambda_end)
        self.raw = nn.Parameter(torch.full((1, ), float(init)))

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        """The temperature, shape ``[1]`` (the logits are not used)."""
        return self._tau(self.raw)


@MODELS.register_module()
class InstanceTemperature(_LearnableTemperature):
    """CTKD's instance-wise temperature: an MLP predicts one per sample.

    ``tau_i = t_start + t_range * sigmoid(GRL(MLP([z_T_i, z_S_i])))``: a
    two-layer MLP (``Linear(2K, hidden)``, ReLU, ``Linear(hidden, 1)``) on
    the concatenated teacher and student logits, which are detached (the
    student learns only through the loss, not through its temperature).
    The released instance-wise code is a modified KD loss shared on a
    drive; the MLP's width is not in the repository, so ``hidden`` is
    mmkd's choice.

    Args:
        num_classes (int): ``K``, the logits' width.
        hidden (int): Hidden width of the MLP. Defaults to 256.
        t_start, t_range, curriculum_epochs, lambda_start, lambda_end: As
            in :class:`GlobalTemperature`.
    """

    def __init__(self, num_classes: int, hidden: int = 256,
                 t_start: float = 1., t_range: float = 20.,
                 curriculum_epochs: int = 10, lambda_start: float = 0.,
                 lambda_end: float = 1.) -> None:
        super().__init__(t_start, t_range, curriculum_epochs, lambda_start,
                         lambda_end)
        self.num_classes = num_classes
        self.mlp = nn.Sequential(nn.Linear(2 * num_classes, hidden),
                                 nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        """Per-sample temperatures, shape ``[N, 1]``."""
        if preds_S.shape[-1] != self.num_classes:
            raise ValueError(
                f'InstanceTemperature: logits have {preds_S.shape[-1]} '
                f'classes but num_classes={self.num_classes}; set '
                'temperature.num_classes to the heads\' num_classes.')
        x = torch.cat([preds_T.detach(), preds_S.detach()], dim=1)
        return self._tau(self.mlp(x))


def build_temperature(loss_name: str, temperature: Union[dict, nn.Module]
                      ) -> nn.Module:
    """Build a loss's ``temperature`` (a config dict or a module)."""
    if isinstance(temperature, nn.Module):
        return temperature
    if isinstance(temperature, dict):
        return MODELS.build(temperature)
    raise TypeError(f'{loss_name}: temperature must be a config dict such as '
                    "dict(type='GlobalTemperature') or a module, got "
                    f'{type(temperature).__name__}.')
