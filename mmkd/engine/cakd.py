"""Training parts of CAKD: the loss-weight ramp and two optimizers."""
from typing import Optional

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmkd.models.interfaces import LossWeightScheduled
from mmkd.registry import HOOKS, OPTIM_WRAPPER_CONSTRUCTORS
from .hooks import _unwrap


@HOOKS.register_module()
class LossWeightRampHook(Hook):
    """Ramp a distill-loss weight linearly over epochs.

    Before each training epoch ``e`` (0-based, ``runner.epoch``) calls
    ``set_loss_weight(w)`` on every module of the model that is a
    ``LossWeightScheduled``
    (``CAKDLoss``; ``CAKDDistiller`` for its adversarial term), with::

        w = 0                                       for e < start_epoch
        w = max_weight * (e - start_epoch) / (end_epoch - start_epoch)
        w = max_weight                              for e >= end_epoch

    CAKD's release: 0 until epoch 25, rising to 0.2 by epoch 75 (the
    defaults). The weight depends only on the epoch, so it is right after a
    resume. Iteration-based loops have no epochs: the weight stays at
    ``w(0)`` there.

    Args:
        start_epoch (int): Last epoch with weight 0 is ``start_epoch - 1``.
            Defaults to 25.
        end_epoch (int): First epoch at ``max_weight``. Defaults to 75.
        max_weight (float): The final weight. Defaults to 0.2.
    """

    priority = 'NORMAL'

    def __init__(self,
                 start_epoch: int = 25,
                 end_epoch: int = 75,
                 max_weight: float = 0.2) -> None:
        if end_epoch <= start_epoch or start_epoch < 0:
            raise ValueError(
                'LossWeightRampHook needs 0 <= start_epoch < end_epoch, got '
                f'start_epoch={start_epoch}, end_epoch={end_epoch}.')
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.max_weight = max_weight

    def weight(self, epoch: int) -> float:
        """The weight of 0-based epoch ``epoch``."""
        frac = (epoch - self.start_epoch) / (self.end_epoch - self.start_epoch)
        return self.max_weight * min(max(frac, 0.0), 1.0)

    def _apply(self, runner) -> None:
        weight = self.weight(runner.epoch)
        found = False
        for module in _unwrap(runner.model).modules():
            if isinstance(module, LossWeightScheduled):
                module.set_loss_weight(weight)
                found = True
        if not found:
            raise TypeError('LossWeightRampHook found no module with a '
                            'ramped weight (set_loss_weight of a '
                            'LossWeightScheduled such as CAKDLoss); remove the '
                            'hook or add such a loss.')

    def before_train(self, runner) -> None:
        self._apply(runner)

    def before_train_epoch(self, runner) -> None:
        self._apply(runner)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DiscriminatorOptimWrapperConstructor:
    """Two optimizers: the model's ``discriminator`` and everything else.

    Builds ``OptimWrapperDict(student=..., discriminator=...)`` for a
    distiller with a ``discriminator`` submodule (``CAKDDistiller``): the
    ``student`` wrapper gets every parameter outside the discriminator (the
    student, connectors and losses' projectors; a frozen teacher gets no
    gradient), the ``discriminator`` wrapper only the discriminator's. Each
    is an ordinary optim-wrapper config; ``paramwise_cfg`` applies to the
    student side::

        optim_wrapper = dict(
            constructor='DiscriminatorOptimWrapperConstructor',
            student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            discriminator=dict(optimizer=dict(type='Adam', lr=2e-4,
                                              betas=(0.5, 0.999))))

    A ``param_scheduler`` list applies to both optimizers; give
    ``dict(student=[...], discriminator=[...])`` to schedule them apart.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        keys = set(optim_wrapper_cfg)
        if keys != {'student', 'discriminator'}:
            raise ValueError(
                'DiscriminatorOptimWrapperConstructor takes optim_wrapper '
                "keys 'student' and 'discriminator' (each an optim wrapper "
                f'config), got {sorted(keys)}.')
        self.student = DefaultOptimWrapperConstructor(
            dict(optim_wrapper_cfg['student']), paramwise_cfg)
        self.discriminator = DefaultOptimWrapperConstructor(
            dict(optim_wrapper_cfg['discriminator']))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        model = _unwrap(model)
        disc = getattr(model, 'discriminator', None)
        if not isinstance(disc, nn.Module):
            raise TypeError(
                f'{type(model).__name__} has no discriminator; use a single '
                'optim_wrapper=dict(optimizer=...) instead.')
        rest = nn.Module()
        for name, child in model.named_children():
            if child is not disc:
                rest.add_module(name, child)
        return OptimWrapperDict(
            student=self.student(rest),
            discriminator=self.discriminator(disc))
