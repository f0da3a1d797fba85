"""DIH: distilling knowledge via intermediate classifier heads.

Asadian & Salehi-Abari, "Distilling Knowledge via Intermediate Classifier
Heads", arXiv 2103.00497. Three stages, each an ordinary mmkd config
(``configs/dih/pipeline_*.py`` chains them):

1. Train the teacher with CE (an ordinary classifier config).
2. :class:`HeadFinetuner`: mount k heads (``DIHHead``) on the frozen
   teacher and train only them, each with CE. :class:`HeadSelectHook`
   keeps, per head, the weights with the best top-1 on a validation split
   carved from the training set (``SplitDataset``). The checkpoint holds
   the teacher and all heads.
3. :class:`DIHDistiller`: the teacher's final classifier and its k heads
   teach the student together (``CohortKDLoss``); its ``teacher_ckpt`` is
   stage 2's checkpoint.

Default mount points (``mounts=None``), by the teacher's backbone, under
``teacher.backbone.``; k heads; the maps they read at a 32x32 input:

- ``CIFARResNet`` (ResNet-8/14/20/110): ``layer1``, ``layer2``, ``layer3``;
  k = 3; 16x32x32, 32x16x16, 64x8x8.
- ``WideResNet`` (WRN-28-2): ``layer1``, ``layer2``, ``layer3``; k = 3;
  32x32x32, 64x16x16, 128x8x8.
- ``ResNet_CIFAR`` (mmpretrain's ResNet-18/34 with a CIFAR stem):
  ``layer1`` ... ``layer4``; k = 4; 64x32x32, 128x16x16, 256x8x8, 512x4x4.
- ``CIFARVGG`` (VGG-11-BN): ``pool0``, ``pool1``, ``pool2``, ``block4``;
  k = 4; 64x16x16, 128x8x8, 256x4x4, 512x4x4.

As in the authors' code, the last head reads the teacher's last feature
map (before global pooling). The CIFAR VGG here has three max-pool modules
(a fourth, functional one only on 64x64 inputs), so VGG-11's fourth head
sits on ``block4``, the last stage, where the authors' fourth head read the
map after their last max-pool. Give ``mounts`` to choose other modules;
any module whose output is a 4-d map works.
"""
import copy
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmpretrain.structures import DataSample

from mmkd.registry import CONNECTORS, HOOKS, MODELS
from mmkd.utils.checkpoint import extract_state_dict, load_checkpoint_file
from .single_teacher import (BUILTIN_INPUTS, SingleTeacherDistiller,
                             _labels, build_classifier, prepare_teacher)
from .taps import FeatureTaps, nearest

#: Default mount points (module paths) per teacher backbone class.
DEFAULT_MOUNTS = {
    'CIFARResNet': ('layer1', 'layer2', 'layer3'),
    'WideResNet': ('layer1', 'layer2', 'layer3'),
    'ResNet_CIFAR': ('layer1', 'layer2', 'layer3', 'layer4'),
    'ResNet': ('layer1', 'layer2', 'layer3', 'layer4'),
    'CIFARVGG': ('pool0', 'pool1', 'pool2', 'block4'),
}


def default_mounts(teacher: nn.Module) -> List[str]:
    """The default mount paths for a teacher, or a ValueError."""
    backbone = type(getattr(teacher, 'backbone', None)).__name__
    if backbone not in DEFAULT_MOUNTS:
        raise ValueError(
            f'model.mounts is None and the teacher backbone {backbone} has no '
            f'default mount points (defaults exist for '
            f'{sorted(DEFAULT_MOUNTS)}); give mounts=[...], module paths '
            "such as 'teacher.backbone.layer1'.")
    return [f'teacher.backbone.{name}' for name in DEFAULT_MOUNTS[backbone]]


@torch.no_grad()
def feature_map_shapes(root: nn.Module, teacher: nn.Module,
                       input_shape: Sequence[int]) -> Dict[str, tuple]:
    """Output shape of every teacher module on a dummy batch.

    Paths are relative to ``root`` (e.g. ``'teacher.backbone.layer1'``);
    modules that run more than once per forward are left out. The teacher
    runs in eval mode, so its BN statistics do not move.
    """
    prefix = next(name for name, m in root.named_children() if m is teacher)
    shapes, calls, handles = {}, {}, []
    for name, module in teacher.named_modules():
        if not name:
            continue
        path = f'{prefix}.{name}'

        def hook(m, args, out, path=path):
            calls[path] = calls.get(path, 0) + 1
            if isinstance(out, torch.Tensor):
                shapes.setdefault(path, tuple(out.shape))

        handles.append(module.register_forward_hook(hook))
    was_training = teacher.training
    teacher.eval()
    try:
        teacher(torch.zeros((2, ) + tuple(input_shape)), mode='tensor')
    except RuntimeError as e:
        raise ValueError(f'model.input_shape={tuple(input_shape)}: the '
                         f'teacher fails on a dummy batch of that shape '
                         f'({e}); give the (C, H, W) of the training '
                         'images.') from e
    finally:
        teacher.train(was_training)
        for handle in handles:
            handle.remove()
    return {p: s for p, s in shapes.items() if calls[p] == 1}


def mount_heads(root: nn.Module, teacher: nn.Module,
                mounts: Optional[Sequence[str]], head: dict,
                input_shape: Sequence[int]
                ) -> Tuple['OrderedDict[str, str]', nn.ModuleDict]:
    """Validate mount paths and build one head per mount.

    Args:
        root (nn.Module): The algorithm (paths start from it).
        teacher (nn.Module): The teacher classifier (``root.teacher``).
        mounts (Sequence[str], optional): Module paths such as
            ``'teacher.backbone.layer1'``; None takes the defaults of the
            teacher's backbone (see the module docstring).
        head (dict): Head config, e.g. ``dict(type='DIHHead')``;
            ``in_shape`` and ``num_classes`` are filled in.
        input_shape (Sequence[int]): ``(C, H, W)`` of the training images.

    Returns:
        tuple: ``{'head1': path, ...}`` and the heads (``nn.ModuleDict``
        with keys ``head1`` ... ``headk``).

    Raises:
        ValueError: A path names no module of the teacher, or its output is
            not a 4-d map; the message lists the valid mount paths.
    """
    if mounts is None:
        mounts = default_mounts(teacher)
    if isinstance(mounts, str) or not isinstance(mounts, (list, tuple)) \
            or not mounts:
        raise TypeError('model.mounts must be a non-empty list of module '
                        "paths such as ['teacher.backbone.layer1', ...], got "
                        f'{mounts!r}.')
    shapes = feature_map_shapes(root, teacher, input_shape)
    valid = [p for p, s in shapes.items() if len(s) == 4]
    stages = [p for p in valid if p.count('.') == 2] or valid[:10]
    shape_txt = 'x'.join(str(s) for s in input_shape)
    modules = dict(root.named_modules())
    num_classes = getattr(getattr(teacher, 'head', None), 'num_classes', None)
    if not isinstance(num_classes, int):
        raise TypeError('the teacher has no head.num_classes; DIH heads '
                        'predict the teacher\'s classes, use an '
                        'ImageClassifier with a classification head.')
    if not isinstance(head, dict) or 'type' not in head:
        raise TypeError("model.head must be a connector config such as "
                        f"dict(type='DIHHead'), got {head!r}.")
    if head['type'] not in CONNECTORS.module_dict:
        CONNECTORS.import_from_location()
    paths = OrderedDict()
    heads = nn.ModuleDict()
    for i, path in enumerate(mounts):
        field = f'model.mounts[{i}]={path!r}'
        if path not in modules or not path.startswith('teacher.'):
            raise ValueError(
                f'{field} is not a module of the teacher; valid mount paths '
                f'(4-d outputs at input {shape_txt}), nearest first: '
                f'{nearest(str(path), valid)}; stage outputs: {stages}.')
        if path not in shapes:
            raise ValueError(
                f'{field} runs more than once per forward (or returns no '
                'tensor); mount on its parent or on a module that runs once,'
                f' e.g. {nearest(path, valid)}.')
        if len(shapes[path]) != 4:
            raise ValueError(
                f'{field} outputs a {list(shapes[path])} tensor at input '
                f'{shape_txt}, not a feature map [N, C, H, W]; valid mount '
                f'paths, nearest first: {nearest(path, valid)}; stage '
                f'outputs: {stages}.')
        if path in paths.values():
            raise ValueError(f'{field} is mounted twice.')
        cfg = dict(head)
        cfg.setdefault('in_shape', shapes[path][1:])
        given = cfg.setdefault('num_classes', num_classes)
        if given != num_classes:
            raise ValueError(f'model.head.num_classes={given} but the teacher '
                             f'predicts {num_classes} classes; leave it out.')
        name = f'head{i + 1}'
        paths[name] = path
        heads[name] = CONNECTORS.build(cfg)
    return paths, heads


@MODELS.register_module()
class HeadFinetuner(BaseModel):
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
        init_cfg (dict, optional): Initialisation config.

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
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        teacher = build_classifier(teacher, 'model.teacher')
        if data_preprocessor is None:
            data_preprocessor = teacher.data_preprocessor
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
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

    @property
    def teacher_trainable(self) -> bool:
        return False

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
        labels = _labels(data_samples)
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
            if hasattr(head, 'init_weights'):
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


def load_teacher_and_heads(teacher: nn.Module, heads: nn.ModuleDict,
                           mounts: Dict[str, str], path: str,
                           field: str) -> None:
    """Load a :class:`HeadFinetuner` checkpoint into a teacher and heads.

    Each head takes its selected weights (``best_heads.<name>``) or, if it
    was never validated, its last weights (``heads.<name>``, a warning).
    """
    try:
        checkpoint = load_checkpoint_file(path)
    except (FileNotFoundError, RuntimeError) as e:
        raise type(e)(f'{field}: {e}') from e
    state = extract_state_dict(checkpoint)
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    saved = sorted({k.split('.')[1] for k in state if k.startswith('heads.')})
    if not saved:
        raise ValueError(
            f"{field}={path!r} holds no DIH heads (no 'heads.*' keys): point "
            "it at the head fine-tuning stage's checkpoint (HeadFinetuner), "
            "which holds the teacher and its heads ('{heads}' in a pipeline).")
    if saved != sorted(heads):
        raise ValueError(
            f'{field}={path!r} holds heads {saved} but the model mounts '
            f'{sorted(heads)}; use the same mounts in both stages.')
    _load_exact(teacher, _sub_state(state, 'teacher.'), path,
                f'{field} (teacher)')
    best_acc = state.get('best_acc')
    for j, name in enumerate(heads):
        if best_acc is not None and float(best_acc[j]) >= 0:
            prefix = f'best_heads.{name}.'
        else:
            prefix = f'heads.{name}.'
            print_log(
                f'{field}: {name} ({mounts[name]}) was never validated (no '
                'HeadSelectHook, or no validation); using its last weights.',
                logger='current', level=30)
        _load_exact(heads[name], _sub_state(state, prefix), path,
                    f'{field} ({name} on {mounts[name]})')


def _sub_state(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}


def _load_exact(module: nn.Module, state: dict, path: str, what: str) -> None:
    own = module.state_dict()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            raise RuntimeError(
                f'{what}: {key} has shape {tuple(value.shape)} in {path!r} '
                f'but {tuple(own[key].shape)} in the model; the stages must '
                'use the same teacher, mounts, head and input_shape.')
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise RuntimeError(
            f'{what}: {path!r} does not fit: {len(missing)} missing keys '
            f'{missing[:5]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:5]}; the stages must use the same teacher and '
            'heads.')
    module.load_state_dict(state, strict=True)


@MODELS.register_module()
class DIHDistiller(SingleTeacherDistiller):
    """DIH stage 3: the teacher and its fine-tuned heads teach the student.

    ``teacher_ckpt`` is the checkpoint of stage 2 (:class:`HeadFinetuner`),
    which holds the teacher and its heads; ``mounts``, ``head`` and
    ``input_shape`` must be those of stage 2. Teacher and heads are frozen
    and in eval mode. Besides the inputs of
    :class:`SingleTeacherDistiller`, losses can read:

    - ``t_logits``: the teacher's final classifier (``z_T^0``);
    - ``t_head_logits_<j>``, ``j = 1..k``: head ``j`` (mount order);
    - ``t_cohort_logits``: the tuple ``(t_logits, t_head_logits_1, ...)``,
      what ``CohortKDLoss`` takes.

    DIH's loss is one config line; ``CohortKDLoss`` contains the student's
    CE, so the student's own loss is switched off::

        student_loss_weight=0.0,
        distill_losses=dict(loss_dih=dict(
            type='CohortKDLoss', tau=5, alpha=0.1, ce_mode='per_head',
            inputs=dict(preds_S='s_logits', preds_T='t_cohort_logits',
                        gt_labels='gt_labels')))

    Args:
        student (dict | str | nn.Module): The student classifier.
        teacher (dict | str | nn.Module): The teacher classifier.
        teacher_ckpt (str, optional): Stage 2's checkpoint (teacher +
            heads). None: teacher and heads are random (warnings; for smoke
            tests only).
        mounts (Sequence[str], optional): As in :class:`HeadFinetuner`.
        head (dict): As in :class:`HeadFinetuner`.
        input_shape (Sequence[int]): ``(C, H, W)`` of the training images;
            sizes the heads and runs the build-time dry run. Defaults to
            ``(3, 32, 32)``.
        **kwargs: The other arguments of :class:`SingleTeacherDistiller`
            (``student_loss_weight``, ``taps``, ``connectors``,
            ``distill_losses``, ...), not ``check_input_shape``.
    """

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 mounts: Optional[Sequence[str]] = None,
                 head: dict = dict(type='DIHHead'),
                 input_shape: Sequence[int] = (3, 32, 32),
                 **kwargs) -> None:
        if 'check_input_shape' in kwargs:
            raise TypeError('DIHDistiller takes input_shape (it sizes the '
                            'heads and runs the dry run), not '
                            'check_input_shape.')
        # read by _build_teachers, which the parent's __init__ calls
        self._dih_spec = dict(mounts=mounts, head=head,
                              input_shape=tuple(input_shape))
        super().__init__(student=student, teacher=teacher,
                         teacher_ckpt=teacher_ckpt,
                         check_input_shape=input_shape, **kwargs)

    def _build_teachers(self, teacher, teacher_ckpt: Optional[str]) -> None:
        spec = self.__dict__.pop('_dih_spec')
        self.teacher = build_classifier(teacher, 'model.teacher')
        self.teacher_ckpt = teacher_ckpt
        self.input_shape = spec['input_shape']
        self.mounts, self.heads = mount_heads(self, self.teacher,
                                              spec['mounts'], spec['head'],
                                              self.input_shape)
        self.mount_taps = FeatureTaps(self, dict(self.mounts), ('teacher', ))
        if teacher_ckpt is None:
            prepare_teacher(self.teacher, None, 'model.teacher_ckpt',
                            self.teacher_trainable, self.teacher_eval)
            print_log(
                'model.teacher_ckpt is None: the DIH heads are random too '
                '(intended only for smoke tests).', logger='current',
                level=30)
        else:
            load_teacher_and_heads(self.teacher, self.heads, self.mounts,
                                   teacher_ckpt, 'model.teacher_ckpt')
            if not self.teacher_trainable:
                self.teacher.requires_grad_(False)
            if self.teacher_eval:
                self.teacher.eval()
        self.heads.requires_grad_(False)
        self.heads.eval()

    def _builtin_names(self) -> List[str]:
        heads = [f't_head_logits_{j}' for j in range(1, len(self.heads) + 1)]
        return list(BUILTIN_INPUTS) + heads + ['t_cohort_logits']

    def _teacher_tensors(self, inputs) -> Dict[str, torch.Tensor]:
        with self.mount_taps.recording() as feats:
            t_logits = self.teacher(inputs, mode='tensor')
        try:
            cohort = [t_logits]
            tensors = dict(t_logits=t_logits)
            for j, (name, head) in enumerate(self.heads.items(), 1):
                logits = head(feats[name])
                tensors[f't_head_logits_{j}'] = logits
                cohort.append(logits)
        finally:
            self.mount_taps.clear()
        tensors['t_cohort_logits'] = tuple(cohort)
        return tensors

    def train(self, mode: bool = True):
        super().train(mode)
        self.heads.eval()
        return self


__all__ = [
    'HeadFinetuner', 'HeadSelectHook', 'DIHDistiller', 'mount_heads',
    'default_mounts', 'load_teacher_and_heads', 'DEFAULT_MOUNTS'
]
