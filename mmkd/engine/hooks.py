"""Hooks that make runs reproducible and misconfigurations loud."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd.models.algorithms import BaseDistiller
from mmkd.models.interfaces import (DatasetChecked, EpochAware,
                                    TeacherOwner)
from mmkd.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random generators' states in checkpoints; restore on resume.

    mmengine reseeds at start but does not save generator states, so random
    augmentation after ``--resume`` differs from an uninterrupted run. With
    this hook (in ``configs/_base_/default_runtime.py``) an interrupted and
    resumed CPU run ends with the same weights as an uninterrupted one, with
    ``num_workers=0`` (worker processes draw their own seeds).
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else [])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('rng_state')
        if state is None or not getattr(runner, '_resume', False):
            return
        random.setstate(_as_tuple(state['python']))
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.is_available() and len(
                state['cuda']) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(state['cuda'])


def _as_tuple(x):
    if isinstance(x, list):
        return tuple(_as_tuple(i) for i in x)
    return x


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Check the training data against the model before the first iteration.

    - The data must not have more classes than the model's heads predict
      (cross-entropy would crash on the first label out of range).
    - Inputs a distiller takes from the data (``sample_idx``,
      ``contrast_idx``) must be in the samples the pipeline produces.
    - Every part that is a ``DatasetChecked`` (e.g. CRD's memory bank,
      sized to the data; MLKD's distiller, which needs a strong view) is asked to raise if the training set does not fit
      it.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._check_data_inputs(model, dataset)
        for module in model.modules():
            if isinstance(module, DatasetChecked):
                module.check_dataset(dataset)
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if not classes:
            return
        for name, module in model.named_modules():
            num = getattr(module, 'num_classes', None)
            if not isinstance(num, int) or not name.endswith('head'):
                continue
            if num < len(classes):
                field = f'model.{name}.num_classes' if name else \
                    'model.head.num_classes'
                raise ValueError(
                    f'{field}={num} but the training set has {len(classes)} '
                    f'classes; set {field}={len(classes)}.')
            if num != len(classes):
                runner.logger.warning(
                    f'model.{name}.num_classes={num} while the training set '
                    f'has {len(classes)} classes.')

    @staticmethod
    def _check_data_inputs(model, dataset) -> None:
        used = model.data_inputs_used() if isinstance(
            model, BaseDistiller) else []
        if not used or len(dataset) == 0:
            return
        sample = dataset[0]
        data_sample = sample.get('data_samples') if isinstance(
            sample, dict) else None
        for key in used:
            if data_sample is None or key not in data_sample:
                raise ValueError(
                    f'the distiller takes {key!r} from the data, but the '
                    'training samples have no such field; wrap '
                    'train_dataloader.dataset in the method\'s dataset '
                    'wrapper (e.g. CRDDataset) and keep PackInputs last in '
                    'its pipeline.')


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Report the teacher's accuracy on the validation set, apart.

    The teacher's metrics are logged as ``teacher/<metric>`` (log and
    visualizer backends) and never enter the metrics the validation loop
    returns, so ``CheckpointHook(save_best=...)`` keeps seeing the student's
    numbers only. A frozen teacher is evaluated once, before training; a
    trainable one after every validation.

    Add it with ``custom_hooks = [..., dict(type='TeacherEvalHook')]``.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self.metrics = {}

    def before_train(self, runner) -> None:
        model = _unwrap(runner.model)
        if not isinstance(model, TeacherOwner):
            raise TypeError('TeacherEvalHook needs a model with teachers (a '
                            'distiller); remove the hook for '
                            f'{type(model).__name__}.')
        if runner.val_loop is not None and not model.teacher_trainable:
            self._evaluate(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        if _unwrap(runner.model).teacher_trainable:
            self._evaluate(runner)

    @torch.no_grad()
    def _evaluate(self, runner) -> None:
        model = _unwrap(runner.model)
        loop = runner.val_loop
        self.metrics = {}
        for name, teacher in model.named_teachers().items():
            evaluator = runner.build_evaluator(runner.cfg.val_evaluator)
            evaluator.dataset_meta = getattr(loop.dataloader.dataset,
                                             'metainfo', None)
            was_training = teacher.training
            teacher.eval()
            for data in loop.dataloader:
                data = model.data_preprocessor(data, False)
                outputs = teacher.predict(data['inputs'],
                                          data['data_samples'])
                evaluator.process(data_samples=outputs, data_batch=data)
            teacher.train(was_training)
            metrics = evaluator.evaluate(len(loop.dataloader.dataset))
            self.metrics.update(
                {f'{name}/{k}': v for k, v in metrics.items()})
            runner.logger.info(f'{name}: ' + '  '.join(
                f'{k}: {v:.4f}' for k, v in metrics.items()))
        runner.visualizer.add_scalars(self.metrics, step=runner.iter)


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class LossEpochHook(Hook):
    """Tell epoch-dependent distill parts the epoch, before each epoch.

    Calls ``set_epoch(runner.epoch + 1)`` (epochs counted from 1) on every
    module of the model that is an ``EpochAware``, e.g. DKD's linear warm-up
    ``min(epoch / 20, 1)``. The factor depends only on the epoch, so it is
    right after a resume too. In ``configs/_base_/default_runtime.py``.
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        for module in _unwrap(runner.model).modules():
            if isinstance(module, EpochAware):
                module.set_epoch(runner.epoch + 1)
