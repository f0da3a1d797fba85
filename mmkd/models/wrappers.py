"""Data parallel for models that run their own ``train_step``.

mmengine's ``MMDistributedDataParallel.train_step`` runs one forward, one
backward and one ``update_params`` of a single optimizer, bypassing the
model's own ``train_step``. A GAN-style step (``CAKDDistiller`` with a
discriminator: a student update, then a discriminator update with its own
optimizer) needs the model's ``train_step``. mmengine's
``MMSeparateDistributedDataParallel`` calls it, but wraps each child module
in its own DDP, which breaks a distiller: its loss modules are reached by
key (``distill_losses[name]``, not through a DDP forward, so their
gradients would never be reduced) and its discriminator runs several
forwards per backward and with frozen parameters in the student's step.

:class:`TrainStepDataParallel` leaves the model whole: gradients are
averaged over the processes right before each optimizer step (one
all-reduce per step), and rank 0's state is broadcast before the first.
"""
import contextlib
import functools
from typing import Iterable, Union

import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmkd.registry import MODEL_WRAPPERS

__all__ = ['TrainStepDataParallel', 'average_gradients', 'averaging_steps']


def _world_size() -> int:
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_world_size()
    return 1


@torch.no_grad()
def average_gradients(params: Iterable[nn.Parameter]) -> None:
    """Average the gradients of ``params`` over all processes.

    One all-reduce of a flat buffer. A parameter with no gradient on some
    ranks counts as zero there; one with no gradient on every rank keeps
    ``grad = None`` (so an optimizer skips it, as in one process). A no-op
    in a single process.

    Args:
        params (Iterable[nn.Parameter]): The parameters of one optimizer,
            in the same order on every rank.
    """
    world = _world_size()
    params = [p for p in params if p.requires_grad]
    if world == 1 or not params:
        return
    ref = next((p.grad for p in params if p.grad is not None), params[0])
    flat = torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(
            -1).to(ref.dtype) for p in params
    ] + [
        torch.tensor([float(p.grad is not None) for p in params],
                     dtype=ref.dtype, device=ref.device)
    ])
    torch_dist.all_reduce(flat)
    present = flat[-len(params):]
    offset = 0
    for i, p in enumerate(params):
        n = p.numel()
        if present[i] > 0:
            grad = (flat[offset:offset + n] / world).view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = grad.clone()
            else:
                p.grad.copy_(grad)
        offset += n


def _averaged_step(optim_wrapper: OptimWrapper, step, **kwargs) -> None:
    average_gradients(p for group in optim_wrapper.param_groups
                      for p in group['params'])
    step(**kwargs)


@contextlib.contextmanager
def averaging_steps(optim_wrapper: Union[OptimWrapper, OptimWrapperDict]):
    """Within the block, each wrapper's ``step`` first averages gradients.

    ``update_params`` calls ``step`` only when it updates (after the last
    of ``accumulative_counts`` backwards), so accumulation needs one
    all-reduce per update; clipping and AMP unscaling happen in ``step``,
    after the averaging.
    """
    wrappers = (list(optim_wrapper.values()) if isinstance(
        optim_wrapper, OptimWrapperDict) else [optim_wrapper])
    for wrapper in wrappers:
        wrapper.step = functools.partial(_averaged_step, wrapper,
                                         wrapper.step)
    try:
        yield
    finally:
        for wrapper in wrappers:
            vars(wrapper).pop('step', None)


@MODEL_WRAPPERS.register_module()
class TrainStepDataParallel(nn.Module):
    """Data parallel that runs the model's own ``train_step``.

    For models whose ``train_step`` updates more than one optimizer (an
    ``OptimWrapperDict``), such as ``CAKDDistiller`` with a discriminator.
    Before the first train step every parameter and buffer is broadcast
    from rank 0 (as DDP does at construction; here after the runner's
    weight initialisation and checkpoint loading); in :meth:`train_step`
    each optimizer step first
    averages its parameters' gradients over the processes
    (:func:`average_gradients`), so every rank applies the same update.
    Unlike DDP the all-reduce is not overlapped with the backward pass.
    Works with NCCL (GPUs) and gloo (CPU, ``KDRunner``); in one process it
    only forwards the calls. ``KDRunner`` selects it for models whose
    ``default_model_wrapper`` names it; a config can also say so::

        model_wrapper_cfg = dict(type='TrainStepDataParallel')

    Args:
        module (nn.Module): The model (an mmengine ``BaseModel``).
        broadcast_buffers (bool): Also broadcast rank 0's buffers (e.g.
            BatchNorm statistics) before every train step; by default each
            rank keeps its own, as with ``KDRunner``'s DDP, and checkpoints
            hold rank 0's. Defaults to False.
    """

    def __init__(self, module: nn.Module,
                 broadcast_buffers: bool = False) -> None:
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self._synced = False

    @staticmethod
    @torch.no_grad()
    def _broadcast(tensors) -> None:
        if _world_size() == 1:
            return
        for t in tensors:
            torch_dist.broadcast(t.data, src=0)

    def train_step(self, data, optim_wrapper) -> dict:
        if not self._synced:
            # after the runner's init_weights and checkpoint loading
            self._broadcast(list(self.module.parameters()) +
                            list(self.module.buffers()))
            self._synced = True
        elif self.broadcast_buffers:
            self._broadcast(list(self.module.buffers()))
        with averaging_steps(optim_wrapper):
            return self.module.train_step(data, optim_wrapper)

    def val_step(self, data) -> list:
        return self.module.val_step(data)

    def test_step(self, data) -> list:
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
