"""mmengine's Runner, able to run several processes on a CPU-only machine.

mmengine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device`` and
wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, so ``torchrun
--nproc_per_node 2 tools/train.py CFG --launcher pytorch`` fails without a
GPU. :class:`KDRunner` changes exactly two things, and only when CUDA is
unavailable: the process group is started with the ``gloo`` backend, and
the model is wrapped in DDP without ``device_ids``. With a GPU it behaves
like mmengine's Runner (NCCL, one device per process).

:class:`SearchRunner` is the runner of ``tools/search.py``: the same, with
no optimiser (a search trains nothing).
"""
import logging
import os
import re
from collections import OrderedDict

import torch
import torch.distributed as torch_dist
from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.logging import print_log
from mmengine.model import (MMDistributedDataParallel, convert_sync_batchnorm,
                            is_model_wrapper)
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmkd.models.interfaces import (EpochAware, LossDictUpdate,
                                   NeedsOptimizer, OwnTrainStep)
from mmkd.registry import MODEL_WRAPPERS, OPTIM_WRAPPERS, RUNNERS
from mmkd.utils.checkpoint import check_state_fits, load_checkpoint_file


def init_cpu_process_group() -> None:
    """Start a gloo process group from torchrun's environment variables."""
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch needs the {key} environment variable; '
                'start the processes with torchrun (tools/dist_train.sh).')
    torch_dist.init_process_group(
        backend='gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))


@RUNNERS.register_module()
class KDRunner(Runner):
    """mmengine ``Runner`` with CPU multi-process (gloo) support.

    Used by ``tools/train.py`` unless a config sets ``runner_type``. In a
    distributed run, an ``OwnTrainStep`` model whose
    ``default_model_wrapper`` names a wrapper (e.g. ``CAKDDistiller`` with a
    discriminator: ``TrainStepDataParallel``)
    is wrapped in that wrapper when the config sets no
    ``model_wrapper_cfg``; so is a model trained by an optim wrapper that
    is a ``LossDictUpdate`` (DOT), which needs the distiller's
    ``train_step``.
    """

    def load_checkpoint(self, filename: str, map_location='cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module\.', '')]):
        """Load ``filename`` into the model, strictly, with mmkd's messages.

        Used by ``load_from``, ``--resume`` and ``tools/test.py``. The file
        is read with ``weights_only=True`` (a pickle that could run code is
        refused with one sentence). Every model key must be in the
        checkpoint with the same shape, and no checkpoint key may be left
        over: otherwise a ``RuntimeError`` names the mismatched parameters
        before anything trains or is evaluated (mmengine would only warn,
        then fail at the first optimizer step or report a random model's
        accuracy). A distiller checkpoint (``student.*``/``teacher.*``
        keys) given to a plain classifier config loads its student part.
        ``strict`` is ignored: loading is always strict.
        """
        field = '--resume' if self._resume else 'load_from'
        if map_location == 'default':
            map_location = 'cpu'
        checkpoint = load_checkpoint_file(filename, map_location=map_location)
        if not isinstance(checkpoint, dict):
            raise RuntimeError(f'{field}: {filename!r} holds a '
                               f'{type(checkpoint).__name__}, not a '
                               'checkpoint dict.')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        state = checkpoint.get('state_dict', checkpoint)
        for pattern, repl in revise_keys:
            state = OrderedDict(
                (re.sub(pattern, repl, k), v) for k, v in state.items())
        own = model.state_dict()
        if (not any(k.startswith('student.') for k in own)
                and any(k.startswith('student.') for k in state)
                and not set(own) & set(state)):
            # a distiller checkpoint tested with the student's own config
            state = OrderedDict((k[len('student.'):], v)
                                for k, v in state.items()
                                if k.startswith('student.'))
            self.logger.info(f'{filename} is a distiller checkpoint: '
                             'loading its student.* weights into the model.')
        elif (any(k.startswith('student.') for k in own)
              and not any(k.startswith('student.') for k in state)):
            raise RuntimeError(
                f'{field}: {filename!r} holds no student.* weights, so it is '
                f'not a checkpoint of this {type(model).__name__} (a '
                "student-only export?); test it with the student's own "
                "config, or give the distiller's checkpoint.")
        check_state_fits(model, state, filename, field,
                         type(model).__name__)
        checkpoint = dict(checkpoint, state_dict=state)
        _load_checkpoint_to_model(model, checkpoint, strict=True,
                                  revise_keys=[])
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def train(self):
        """mmengine's ``train``, after checking that every epoch-dependent
        part of the model (``EpochAware``: DKD's warm-up, CTKD's
        curriculum, ...) will be told the epoch; without ``LossEpochHook``
        it would silently keep its epoch-1 (or default) behaviour."""
        from .hooks import LossEpochHook
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        parts = sorted({
            type(m).__name__
            for m in model.modules() if isinstance(m, EpochAware)
        })
        if parts and not any(isinstance(h, LossEpochHook)
                             for h in self.hooks):
            raise RuntimeError(
                f'{", ".join(parts)} depend(s) on the epoch, but no '
                'LossEpochHook is registered to tell them; add '
                "custom_hooks=[dict(type='LossEpochHook')] (mmkd's "
                'configs/_base_/default_runtime.py has it).')
        return super().train()

    def build_optim_wrapper(self, optim_wrapper):
        """mmengine's ``build_optim_wrapper``, then a check that every
        ``NeedsOptimizer`` part (CTKD's learnable temperature) has its
        parameters in the wrapper's param groups (a custom constructor
        that takes only the student's would leave it at its initial
        value)."""
        built = super().build_optim_wrapper(optim_wrapper)
        check_optimized_parts(self.model, built)
        return built

    def setup_env(self, env_cfg: dict) -> None:
        if (self.distributed and not is_distributed()
                and not torch.cuda.is_available()):
            if self.launcher != 'pytorch':
                raise RuntimeError(
                    f'launcher {self.launcher!r} needs GPUs; on a CPU-only '
                    'machine use --launcher pytorch through torchrun '
                    '(tools/dist_train.sh).')
            init_cpu_process_group()
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        # a model that runs its own train_step (CAKD with a discriminator)
        # names the wrapper that calls it
        own = model.default_model_wrapper if isinstance(
            model, OwnTrainStep) else None
        if own is None and _updates_from_losses(self.cfg.get('optim_wrapper')):
            # DOT: mmengine's DDP would hand the optim wrapper only the sum
            own = 'TrainStepDataParallel'
        if own is not None and self.distributed:
            if model_wrapper_cfg is None:
                model_wrapper_cfg = dict(type=own)
            elif model_wrapper_cfg.get('type') in (
                    None, 'MMDistributedDataParallel',
                    'MMSeparateDistributedDataParallel'):
                raise TypeError(
                    f'{type(model).__name__} runs its own train_step, which '
                    "mmengine's DDP wrappers bypass or break (see "
                    'mmkd/models/wrappers.py); set model_wrapper_cfg='
                    f"dict(type='{own}') or remove it.")
        if (self.distributed and model_wrapper_cfg is not None
                and model_wrapper_cfg.get('type') in MODEL_WRAPPERS.module_dict
                and not is_model_wrapper(model)):
            # mmkd's own wrappers, which mmengine's Runner cannot look up
            if self.cfg.get('sync_bn') is not None:
                model = convert_sync_batchnorm(model, self.cfg.sync_bn)
            return MODEL_WRAPPERS.build(
                dict(model_wrapper_cfg),
                default_args=dict(module=model.to(get_device())))
        if (not self.distributed or torch.cuda.is_available()
                or is_model_wrapper(model) or model_wrapper_cfg is not None):
            return super().wrap_model(model_wrapper_cfg, model)
        return MMDistributedDataParallel(
            module=model,
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                False))


@RUNNERS.register_module()
class SearchRunner(KDRunner):
    """The runner of ``tools/search.py``: a search trains nothing, so it
    needs no optimiser. ``train_cfg`` (a ``SearchLoop``) and
    ``train_dataloader`` (the search batch's data) are all it takes; an
    ``optim_wrapper`` in the config is ignored with a warning.
    """

    def __init__(self, *args, train_dataloader=None, train_cfg=None,
                 optim_wrapper=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if optim_wrapper is not None:
            print_log('optim_wrapper is not used by a search (nothing is '
                      'trained); remove it from the config.',
                      logger='current', level=logging.WARNING)
        if train_cfg is None or train_dataloader is None:
            raise ValueError(
                'a search config needs train_cfg (a SearchLoop) and '
                'train_dataloader (the data of its batch); add them.')
        self._train_dataloader = train_dataloader
        self._train_loop = train_cfg

    def train(self):
        """Build the search loop, run it between the run hooks and return
        the teacher."""
        self._train_loop = self.build_train_loop(self._train_loop)
        self.call_hook('before_run')
        self._init_model_weights()
        model = self.train_loop.run()
        self.call_hook('after_run')
        return model


def check_optimized_parts(model, optim_wrapper) -> None:
    """Raise if a parameter of a ``NeedsOptimizer`` part of ``model`` is in
    no param group of ``optim_wrapper`` (an ``OptimWrapper`` or
    ``OptimWrapperDict``)."""
    model = model.module if is_model_wrapper(model) else model
    wrappers = getattr(optim_wrapper, 'optim_wrappers', None)
    wrappers = wrappers.values() if wrappers else [optim_wrapper]
    in_groups = {
        id(p)
        for w in wrappers for group in w.optimizer.param_groups
        for p in group['params']
    }
    for name, module in model.named_modules():
        if not isinstance(module, NeedsOptimizer):
            continue
        missing = [
            n for n, p in module.named_parameters()
            if p.requires_grad and id(p) not in in_groups
        ]
        if missing:
            raise ValueError(
                f'model.{name} ({type(module).__name__}) is learnable, but '
                f'its parameter(s) {missing} are in no param group of '
                'optim_wrapper, so it would never change; let the optimizer '
                "take them (mmengine's default constructor takes every model "
                'parameter) or use a fixed tau instead.')


def _updates_from_losses(optim_wrapper_cfg) -> bool:
    """Whether the configured optim wrapper is a ``LossDictUpdate``."""
    if not isinstance(optim_wrapper_cfg, dict):
        return False
    wrapper_type = optim_wrapper_cfg.get('type')
    if isinstance(wrapper_type, str):
        OPTIM_WRAPPERS.import_from_location()
        wrapper_type = OPTIM_WRAPPERS.get(wrapper_type)
    return isinstance(wrapper_type, type) and issubclass(
        wrapper_type, LossDictUpdate)


def shutdown_distributed() -> None:
    """Wait for every process, then destroy the process group.

    A process that exits with a live gloo group can abort in the group's
    destructor ("terminate called without an active exception") while the
    other rank is still finishing, which fails the whole ``torchrun`` job
    after the work is done. The tools call this at the end.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
