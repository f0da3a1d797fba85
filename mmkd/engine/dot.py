"""Zhao et al., "DOT: A Distillation-Oriented Trainer", ICCV 2023.

DOT is an optimiser rule, so it is an mmengine optim wrapper: any mmkd
distiller uses it from one config line::

    optim_wrapper = dict(type='DOTOptimWrapper', delta=0.075,
                         constructor='DOTOptimWrapperConstructor')

(the ``optimizer`` — SGD with momentum — comes from the schedule base).
"""
from typing import Dict, List, Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from mmkd.models.interfaces import LossDictUpdate
from mmkd.models.wrappers import average_gradients
from mmkd.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS

__all__ = [
    'DOTOptimWrapper', 'DOTOptimWrapperConstructor', 'DOTSGD', 'split_losses'
]

#: Loss-dict keys with this prefix are task losses; BaseDistiller names the
#: student's own losses ``student.<key>``.
TASK_PREFIX = 'student.'


def _total(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.mean()
    return sum(v.mean() for v in value)


def split_losses(
        losses: Dict[str, torch.Tensor],
        task_prefix: str = TASK_PREFIX) -> Tuple[List[str], List[str]]:
    """Split a distiller's loss dict into task and distillation keys.

    Only keys containing ``'loss'`` count (as in mmengine's
    ``parse_losses``): those starting with ``task_prefix`` (the student's
    own, e.g. ``student.loss``, its cross-entropy) are task losses; every
    other one (``loss_kd``, ``loss_dkd``, ``loss_crd.<term>``, ...) is a
    distillation loss.

    Returns:
        tuple: ``(task keys, distillation keys)``.
    """
    task, distill = [], []
    for key in losses:
        if 'loss' not in key:
            continue
        (task if key.startswith(task_prefix) else distill).append(key)
    return task, distill


class DOTSGD(torch.optim.SGD):
    """SGD whose step applies DOT's rule (see :class:`DOTOptimWrapper`).

    ``step(distill_grads=...)`` takes the distillation gradients
    (``{param: grad}``); ``p.grad`` holds the task gradients. Every param
    group has ``delta``. Built by :class:`DOTOptimWrapper` from the
    configured SGD's param groups; not registered, since it is not useful
    without the wrapper.
    """

    def __init__(self, param_groups, delta: float) -> None:
        super().__init__(param_groups)
        for group in self.param_groups:
            group['delta'] = delta

    @torch.no_grad()
    def step(self, closure=None, distill_grads=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        distill_grads = distill_grads or {}
        for group in self.param_groups:
            lr, wd = group['lr'], group['weight_decay']
            beta, damp = group['momentum'], group['dampening']
            delta = group['delta']
            for p in group['params']:
                g_t, g_d = p.grad, distill_grads.get(p)
                if g_t is None and g_d is None:
                    continue
                state = self.state[p]
                both = g_t is not None and g_d is not None
                if g_t is not None:
                    d = g_t.add(p, alpha=wd) if wd else g_t
                    buf = _momentum(state, 'momentum_buffer', d,
                                    beta - delta if both else beta, damp)
                    p.add_(buf, alpha=-lr)
                if g_d is not None:
                    d = g_d if both or not wd else g_d.add(p, alpha=wd)
                    buf = _momentum(state, 'dot_distill_buffer', d,
                                    beta + delta if both else beta, damp)
                    p.add_(buf, alpha=-lr)
        return loss


def _momentum(state: dict, key: str, grad: torch.Tensor, momentum: float,
              dampening: float) -> torch.Tensor:
    buf = state.get(key)
    if buf is None:
        buf = state[key] = torch.clone(grad).detach()
    else:
        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
    return buf


@OPTIM_WRAPPERS.register_module()
class DOTOptimWrapper(LossDictUpdate, OptimWrapper):
    """DOT: separate momentum for the task and the distillation gradient.

    With ``beta`` the SGD momentum, ``g_t`` the gradient of the task losses
    (``student.*``) and ``g_d`` that of the distillation losses (every
    other ``loss*`` key, see :func:`split_losses`), each step is

    .. math::
        v_t \\leftarrow (\\beta - \\delta) v_t + g_t + \\lambda \\theta, \\quad
        v_d \\leftarrow (\\beta + \\delta) v_d + g_d, \\quad
        \\theta \\leftarrow \\theta - \\eta (v_t + v_d)

    (``lambda`` the weight decay, ``eta`` the learning rate; on the first
    step each buffer starts as its gradient, as in torch's SGD). A larger
    momentum for the distillation gradient lets it dominate the direction
    once the task loss is small. As in the official code (mdistiller's
    ``DistillationOrientedTrainer``): weight decay goes with the task
    gradient, or with the distillation gradient for a parameter that gets
    only that one (a connector); such a parameter, or one that gets only
    the task gradient, uses momentum ``beta``; ``dampening`` applies to
    both buffers. With ``delta = 0`` the update is SGD with momentum on
    ``g_t + g_d`` (tested). The task buffer is SGD's ``momentum_buffer``
    in the optimizer state, the distillation buffer ``dot_distill_buffer``,
    so checkpoints resume both.

    The configured SGD is replaced by a :class:`DOTSGD` over the same
    param groups, whose ``step`` is DOT's (parameter schedulers see it as
    the optimizer's step). The wrapper needs the distiller's loss dict:
    ``BaseDistiller.train_step`` passes it
    (:class:`~mmkd.models.interfaces.LossDictUpdate`).

    Args:
        optimizer (torch.optim.SGD): SGD with ``momentum > 0``, no
            Nesterov.
        delta (float): ``delta``; needs ``0 <= beta - delta`` and
            ``beta + delta < 1``. Defaults to 0.075 (mdistiller's CIFAR-100
            setting; 0.09 on ImageNet).
        task_prefix (str): Loss keys of the task losses. Defaults to
            ``'student.'``.
        **kwargs: Other ``OptimWrapper`` arguments; ``accumulative_counts``
            must be 1 and ``clip_grad`` None (DOT's two gradients have no
            single norm to clip).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, delta: float = 0.075,
                 task_prefix: str = TASK_PREFIX, **kwargs) -> None:
        if kwargs.get('accumulative_counts', 1) != 1:
            raise ValueError(
                'DOTOptimWrapper does not accumulate gradients; remove '
                'optim_wrapper.accumulative_counts.')
        if kwargs.get('clip_grad') is not None:
            raise ValueError(
                'DOTOptimWrapper does not clip gradients (its task and '
                'distillation gradients are stepped apart); remove '
                'optim_wrapper.clip_grad.')
        if type(optimizer) is not torch.optim.SGD:
            raise TypeError(
                'DOTOptimWrapper is a momentum rule of SGD; set '
                "optim_wrapper.optimizer.type='SGD', got "
                f'{type(optimizer).__name__}.')
        for i, group in enumerate(optimizer.param_groups):
            beta = group['momentum']
            if group.get('nesterov') or group.get('maximize'):
                raise ValueError(
                    'DOTOptimWrapper implements plain SGD momentum; set '
                    'optim_wrapper.optimizer.nesterov=False (and maximize).')
            if not (0 <= beta - delta and beta + delta < 1):
                raise ValueError(
                    f'DOTOptimWrapper: delta={delta} with momentum={beta} '
                    f'(param group {i}) gives momenta {beta - delta:g} / '
                    f'{beta + delta:g}; choose delta with 0 <= momentum - '
                    'delta and momentum + delta < 1 (e.g. momentum 0.9, '
                    'delta 0.075).')
        super().__init__(DOTSGD(optimizer.param_groups, delta), **kwargs)
        self.delta = delta
        self.task_prefix = task_prefix

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        raise TypeError(
            'DOTOptimWrapper got a summed loss; it needs the loss dict of a '
            'mmkd distiller (BaseDistiller.train_step passes it; in '
            "multi-process runs use model_wrapper_cfg=dict(type="
            "'TrainStepDataParallel'), which KDRunner selects by default).")

    def update_from_losses(self, losses: Dict[str, torch.Tensor]) -> None:
        """Backward the distillation losses, then the task losses, and step.

        In multi-process runs (``TrainStepDataParallel``) the distillation
        gradients are averaged over the processes here
        (``average_gradients``), the task gradients by the wrapper's
        ``step`` as for any optimizer.

        Args:
            losses (dict): The distiller's loss dict (see
                :func:`split_losses`).
        """
        task, distill = split_losses(losses, self.task_prefix)
        if not task or not distill:
            raise ValueError(
                'DOTOptimWrapper needs task losses (keys starting with '
                f'{self.task_prefix!r}) and distillation losses (other '
                f'loss keys); got task {task} and distillation {distill}: '
                'configure a distill loss, or use the plain OptimWrapper.')
        params = [p for g in self.optimizer.param_groups for p in g['params']
                  if p.requires_grad]
        self.optimizer.zero_grad(set_to_none=True)
        sum(_total(losses[k]) for k in distill).backward(retain_graph=True)
        average_gradients(params)
        distill_grads = {p: p.grad for p in params if p.grad is not None}
        self.optimizer.zero_grad(set_to_none=True)
        sum(_total(losses[k]) for k in task).backward()
        self._inner_count += 1
        # through the wrapper's step: parameter schedulers count it, and
        # TrainStepDataParallel averages the task gradients there
        self.step(distill_grads=distill_grads)
        self.optimizer.zero_grad(set_to_none=True)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DOTOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, plus DOT's build-time check: the
    model is an mmkd distiller with at least one distill loss."""

    def __call__(self, model) -> OptimWrapper:
        from mmkd.models.algorithms import BaseDistiller
        inner = model.module if is_model_wrapper(model) else model
        if not isinstance(inner, BaseDistiller) or not len(
                inner.distill_losses):
            raise ValueError(
                'optim_wrapper: DOT needs a distiller with at least one '
                f'distill loss, got a {type(inner).__name__} without one; '
                'add model.distill_losses or use the plain OptimWrapper.')
        wrapper = super().__call__(model)
        if not isinstance(wrapper, DOTOptimWrapper):
            raise TypeError(
                "DOTOptimWrapperConstructor builds optim_wrapper.type="
                f"'DOTOptimWrapper', got {type(wrapper).__name__}; set the "
                'type or remove the constructor.')
        return wrapper
