"""DIH stage 2: train classifier heads on a frozen teacher, keep the best."""
import copy
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import BaseModel, BaseModule, is_model_wrapper
from mmpretrain.structures import DataSample

from mmkd.registry import HOOKS, MODELS
from mmkd.utils.checkpoint import load_checkpoint_file
from ..interfaces import TeacherOwner
from .base import batch_labels
from .classifier import build_classifier
from .dih_heads import mount_heads
from .taps import FeatureTaps
from .teachers import prepare_teacher

__all__ = ['HeadFinetuner', 'HeadSelectHook']


@MODELS.register_module()
class HeadFinetuner(TeacherOwner, BaseModel):
    """DIH stage 2: train classifier heads on a frozen teacher.

    The teacher is loaded from ``teacher_ckpt``, frozen
    (``requires_grad=False``), kept in eval mode (its BN statistics never
    move) and run under ``no_grad``, so the heads see detached features.
    One head per mount (``head1`` ... ``headk``, in the order of
    ``mounts``), sized by a dry run at ``input_shape``.

    - ``loss``: ``loss_head<j> = CE(head_j, y)`` for each head; mmengine sums
      them (each is logged).
    - ``predict``: each data sample gets the teacher's final prediction as
      ``pred_score`` (so a plain ``Accuracy`` reports the teacher) and one
      field per head, ``head<j>``, a ``DataSample`` with that head's
      ``pred_score``, ``gt_label`` and ``eval_mask``. mmpretrain's
      ``MultiTasksMetric`` with one ``Accuracy`` per head reports
      ``head<j>_accuracy/top1``; see ``configs/dih/dih-heads_*.py``.
    - Selection: :class:`HeadSelectHook` copies each head whose validation
      top-1 improved into ``best_heads`` (with ``best_acc`` and
      ``best_epoch``); these are saved in every checkpoint.
      ``DIHDistiller`` reads ``best_heads`` (a head never validated falls
      back to its last weights, with a warning).

    The checkpoint holds ``teacher.*``, ``heads.*``, ``best_heads.*``,
    ``best_acc`` and ``best_epoch``: ``DIHDistiller(teacher_ckpt=...)``
    loads teacher and heads from it.

    Args:
        teacher (dict | str | nn.Module): The teacher classifier config,
            config file path, or module.
        teacher_ckpt (str, optional): Teacher weights (stage 1's
            checkpoint), loaded with ``weights_only=True``. None leaves the
            teacher random (a warning says so; for smoke tests only).
        mounts (Sequence[str], optional): Module paths to mount heads on,
            e.g. ``['teacher.backbone.layer1', ...]``. None: the defaults
            of the teacher's backbone (module docstring).
        head (dict): Head config; ``in_shape`` and ``num_classes`` are
            filled in. Defaults to ``dict(type='DIHHead')`` (the paper's
            linear layer on the flattened map); ``dict(type='DIHHead',
            pool='avg')`` for large inputs.
        input_shape (Sequence[int]): ``(C, H, W)`` of the training images;
            heads are sized from the teacher's maps at this size. Defaults
            to ``(3, 32, 32)``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            teacher's.

    Examples:
        >>> model = dict(
        ...     type='HeadFinetuner',
        ...     teacher=dict(type='ImageClassifier', ...),
        ...     teacher_ckpt='work_dirs/resnet110/epoch_200.pth',
        ...     mounts=['teacher.backbone.layer1', 'teacher.backbone.layer2',
        ...             'teacher.backbone.layer3'],
        ...     head=dict(type='DIHHead'))
    """

    def __init__(self,
                 teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 mounts: Optional[Sequence[str]] = None,
                 head: dict = dict(type='DIHHead'),
                 input_shape: Sequence[int] = (3, 32, 32),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        teacher = build_classifier(teacher, 'model.teacher')
        if data_preprocessor is None:
            data_preprocessor = teacher.data_preprocessor
        super().__init__(data_preprocessor=data_preprocessor)
        self.teacher = teacher
        self.teacher_ckpt = teacher_ckpt
        prepare_teacher(self.teacher, teacher_ckpt, 'model.teacher_ckpt',
                        trainable=False, keep_eval=True)
        self.input_shape = tuple(input_shape)
        self.mounts, self.heads = mount_heads(self, self.teacher, mounts,
                                              head, self.input_shape)
        self.mount_taps = FeatureTaps(self, dict(self.mounts), ('teacher', ))
        self.best_heads = copy.deepcopy(self.heads).requires_grad_(False)
        k = len(self.heads)
        self.register_buffer('best_acc', torch.full((k, ), -1.0))
        self.register_buffer('best_epoch', torch.zeros(k, dtype=torch.long))

    def named_teachers(self) -> Dict[str, nn.Module]:
        """``{log name: teacher}``; used by hooks such as TeacherEvalHook."""
        return {'teacher': self.teacher}

    def _logits(self, inputs: torch.Tensor):
        """The teacher's final logits and every head's logits."""
        with torch.no_grad(), self.mount_taps.recording() as feats:
            t_logits = self.teacher(inputs, mode='tensor')
        try:
            heads = {n: head(feats[n]) for n, head in self.heads.items()}
        finally:
            self.mount_taps.clear()
        return t_logits, heads

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            t_logits, heads = self._logits(inputs)
            return dict(teacher=t_logits, **heads)
        raise RuntimeError(f'Invalid mode "{mode}"; use loss, predict or '
                           'tensor.')

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        """``{'loss_head<j>': CE(head_j, y)}``; the teacher gets no grad."""
        labels = batch_labels(data_samples)
        _, heads = self._logits(inputs)
        return {
            f'loss_{name}': F.cross_entropy(logits, labels)
            for name, logits in heads.items()
        }

    def predict(self, inputs: torch.Tensor, data_samples=None):
        """Teacher prediction as ``pred_score``; heads as ``head<j>``."""
        t_logits, heads = self._logits(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(t_logits.shape[0])]
        t_scores = F.softmax(t_logits, dim=1)
        scores = {n: F.softmax(z, dim=1) for n, z in heads.items()}
        for i, sample in enumerate(data_samples):
            sample.set_pred_score(t_scores[i]).set_pred_label(
                t_scores[i].argmax())
            for name, score in scores.items():
                sub = DataSample().set_pred_score(score[i]).set_pred_label(
                    score[i].argmax())
                if 'gt_label' in sample:
                    sub.set_gt_label(sample.gt_label)
                sub.set_field(True, 'eval_mask', field_type='metainfo')
                sample.set_field(sub, name)
        return data_samples

    @torch.no_grad()
    def select_heads(self, metrics: dict, epoch: int,
                     metric: str = 'accuracy/top1') -> List[str]:
        """Keep each head whose validation ``metric`` improved.

        Args:
            metrics (dict): Validation metrics with ``head<j>_<metric>``.
            epoch (int): The epoch the metrics belong to (from 1).
            metric (str): The per-head metric. Defaults to
                ``'accuracy/top1'``.

        Returns:
            list[str]: The heads that improved (their weights were copied
            into ``best_heads``).
        """
        improved = []
        for j, name in enumerate(self.heads):
            key = f'{name}_{metric}'
            if key not in metrics:
                raise KeyError(
                    f'HeadSelectHook: the validation metrics have no {key!r} '
                    f'(got {sorted(metrics)}); use val_evaluator=dict(type='
                    "'MultiTasksMetric', task_metrics=dict(head1=[dict(type="
                    "'Accuracy')], ...)) with one entry per head, as in "
                    'configs/dih/dih-heads_*.py.')
            value = float(metrics[key])
            if value > float(self.best_acc[j]):
                self.best_heads[name].load_state_dict(
                    self.heads[name].state_dict())
                self.best_acc[j] = value
                self.best_epoch[j] = epoch
                improved.append(name)
        return improved

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        self.best_heads.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the heads only; the teacher keeps its checkpoint."""
        for head in self.heads.values():
            if isinstance(head, BaseModule):
                head.init_weights()
        self.best_heads.load_state_dict(self.heads.state_dict())


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class HeadSelectHook(Hook):
    """Keep each DIH head's best weights by its validation accuracy.

    After every validation, calls ``HeadFinetuner.select_heads``: a head
    whose ``head<j>_<metric>`` beat its best so far is copied into
    ``best_heads``. mmengine saves an epoch's checkpoint before validating
    that epoch, so the hook then writes the updated selection
    (``best_heads.*``, ``best_acc``, ``best_epoch``) into the checkpoint
    the run saved for the same iteration (``last_checkpoint``): every
    checkpoint holds the selection of all validations up to its own, and
    the last one is what the next pipeline stage loads.

    Validate on a split of the training set (``SplitDataset``), never on
    the test set. Add it with
    ``custom_hooks = _base_.custom_hooks + [dict(type='HeadSelectHook')]``.

    Args:
        metric (str): The per-head metric to maximise (its key is
            ``head<j>_<metric>``). Defaults to ``'accuracy/top1'``.
    """

    priority = 'LOW'  # before CheckpointHook (VERY_LOW)

    def __init__(self, metric: str = 'accuracy/top1') -> None:
        self.metric = metric

    def after_val_epoch(self, runner, metrics=None) -> None:
        model = _unwrap(runner.model)
        if not isinstance(model, HeadFinetuner):
            raise TypeError('HeadSelectHook works with HeadFinetuner models '
                            f'only, not {type(model).__name__}; remove it.')
        improved = model.select_heads(metrics or {}, runner.epoch,
                                      self.metric)
        runner.logger.info('DIH heads: ' + '  '.join(
            f'{n} {float(metrics[f"{n}_{self.metric}"]):.2f} (best '
            f'{float(model.best_acc[j]):.2f} @ epoch '
            f'{int(model.best_epoch[j])})' for j, n in enumerate(model.heads))
            + (f'; kept {improved}' if improved else ''))
        self._update_checkpoint(runner, model)

    @staticmethod
    def _update_checkpoint(runner, model) -> None:
        if not is_main_process():
            return
        marker = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(marker):
            return
        with open(marker) as f:
            path = f.read().strip()
        if not osp.isfile(path):
            return
        checkpoint = load_checkpoint_file(path)
        meta = checkpoint.get('meta') or {}
        if meta.get('iter') != runner.iter or 'state_dict' not in checkpoint:
            return  # saved at another iteration: not these weights
        state = checkpoint['state_dict']
        for key, value in model.state_dict().items():
            if key.startswith(('best_heads.', 'best_acc', 'best_epoch')):
                state[key] = value.detach().cpu()
        tmp = path + '.tmp'
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
