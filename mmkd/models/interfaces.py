"""The capabilities mmkd's hooks and tools look for, declared in one place.

A module gets a capability by inheriting its class here; hooks find it with
``isinstance``, never by attribute name. Each class has a no-op (or empty)
default, so a part declares only what it overrides.

================================  ==========================================
capability                        who calls it
================================  ==========================================
:class:`EpochAware`               ``LossEpochHook``: ``set_epoch(e)`` before
                                  each epoch (from 1), e.g. DKD's warm-up
:class:`LossWeightScheduled`      ``LossWeightRampHook``:
                                  ``set_loss_weight(w)`` before each epoch
:class:`DatasetChecked`           ``DataCheckHook``: ``check_dataset(ds)``
                                  before the first iteration
:class:`DataInputs`               the distiller: names a loss reads from the
                                  data samples (e.g. CRD's ``sample_idx``)
:class:`MultiTermLoss`            the distiller: a loss returning a dict of
                                  terms, some of them not losses
:class:`TeacherOwner`             ``TeacherEvalHook``, ``DataCheckHook``:
                                  ``named_teachers()``,
                                  ``teacher_trainable``
:class:`OwnTrainStep`             ``KDRunner``: a model whose
                                  ``train_step`` updates several optimizers
                                  and the wrapper that calls it
:class:`LossDictUpdate`           ``BaseDistiller.train_step``: an optim
                                  wrapper that updates from the named
                                  losses, not their sum (DOT)
:class:`NeedsOptimizer`           ``KDRunner``: parameters the optim
                                  wrapper must train (CTKD's temperature)
================================  ==========================================
"""
from typing import Any, Dict, Optional, Tuple

import abc
import torch
import torch.nn as nn

__all__ = [
    'EpochAware', 'LossWeightScheduled', 'DatasetChecked', 'DataInputs',
    'MultiTermLoss', 'TeacherOwner', 'OwnTrainStep', 'LossDictUpdate',
    'NeedsOptimizer'
]


class EpochAware:
    """A part whose behaviour depends on the training epoch."""

    def set_epoch(self, epoch: int) -> None:
        """Called before each training epoch with its number (from 1)."""


class LossWeightScheduled:
    """A part with a loss weight a hook ramps over epochs."""

    def set_loss_weight(self, weight: float) -> None:
        """Called before each training epoch with the ramped weight."""


class NeedsOptimizer:
    """A part whose parameters only mean something when the optimizer
    trains them (e.g. CTKD's learnable temperature): when it builds the
    optim wrapper, ``KDRunner`` raises if a parameter of such a part is in
    none of its param groups."""


class DatasetChecked:
    """A part that must fit the training set (e.g. a memory bank)."""

    def check_dataset(self, dataset) -> None:
        """Raise a ValueError naming the field to fix if ``dataset`` does
        not fit; called once before the first iteration."""


class DataInputs:
    """A loss or connector that reads tensors from the data samples.

    :attr:`data_inputs` names the metainfo fields it may take (``inputs=``
    can then map an argument to one of these names); the distiller stacks
    them per batch and ``DataCheckHook`` checks that the training samples
    carry the ones a config uses.
    """

    #: Metainfo keys this part may take as inputs.
    data_inputs: Tuple[str, ...] = ()

    def dummy_data_input(self, name: str, batch_size: int) -> Any:
        """A stand-in for ``name`` in the build-time dry run (default
        None)."""
        return None


class MultiTermLoss:
    """A loss whose ``forward`` returns a dict of terms.

    Every tensor is logged as ``<loss name>.<key>`` and summed into the
    total (the distiller's loss names start with ``loss_``), except the keys
    in :attr:`extra_outputs`: tensors for the distiller itself (e.g. CAKD's
    attention maps for its discriminator), returned apart by
    ``BaseDistiller.distill_step``.
    """

    #: Keys of the returned dict that are not loss terms.
    extra_outputs: Tuple[str, ...] = ()


class TeacherOwner:
    """A model that holds teachers (a distiller, DIH's head fine-tuner)."""

    def named_teachers(self) -> Dict[str, nn.Module]:
        """``{log name: teacher classifier}``."""
        return {}

    @property
    def teacher_trainable(self) -> bool:
        """Whether any teacher's parameters train."""
        return False


class OwnTrainStep:
    """A model whose ``train_step`` does its own optimisation.

    mmengine's DDP wrapper runs one forward, backward and optimizer step and
    bypasses the model's ``train_step``; a model that updates several
    optimizers (an ``OptimWrapperDict``) names here the wrapper that calls
    its ``train_step`` in multi-process runs (mmkd's
    ``TrainStepDataParallel`` averages every optimizer's gradients).
    """

    @property
    def default_model_wrapper(self) -> Optional[str]:
        """The model wrapper type of distributed runs, or None for DDP."""
        return None


class LossDictUpdate(abc.ABC):
    """An optim wrapper that updates from the named losses, not their sum.

    ``BaseDistiller.train_step`` calls :meth:`update_from_losses` with the
    distiller's loss dict (``student.<key>`` for the student's own losses,
    ``loss_<name>[.<key>]`` for the distill losses) instead of
    ``update_params(sum)``; DOT gives the two kinds separate momentum.
    In multi-process runs ``KDRunner`` wraps the model in
    ``TrainStepDataParallel`` (mmengine's DDP would pass only the sum).
    """

    @abc.abstractmethod
    def update_from_losses(self, losses: Dict[str, torch.Tensor]) -> None:
        """Backward and step from ``losses`` (keys as above)."""
