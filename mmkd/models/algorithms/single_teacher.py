"""One teacher, one student: the distiller most methods use."""
import copy
import inspect
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope

from mmkd.registry import CONNECTORS, DISTILL_LOSSES, MODELS
from mmkd.utils.checkpoint import load_model_weights
from .taps import FeatureTaps, nearest

#: Tensors every distiller provides besides the configured taps.
#: ``sample_idx`` ([N], the dataset index of each sample) and
#: ``contrast_idx`` ([N, K+1], from a dataset wrapper such as CRD's) come
#: from the data samples' metainfo; the DataCheckHook checks that the
#: training data provides them before the first iteration.
BUILTIN_INPUTS = ('s_logits', 't_logits', 'gt_labels', 'sample_idx',
                  'contrast_idx')
DATA_INPUTS = ('sample_idx', 'contrast_idx')


def build_classifier(cfg: Union[dict, str, nn.Module], field: str) -> nn.Module:
    """Build a classifier from a config dict, a config file or a module.

    Args:
        cfg (dict | str | nn.Module): A model config (any mmkd or mmpretrain
            classifier, e.g. ``dict(type='ImageClassifier', ...)``), the path
            of a config file whose ``model`` is used, or a built module.
        field (str): The config field, for error messages.
    """
    if isinstance(cfg, nn.Module):
        model = cfg
    else:
        if isinstance(cfg, str):
            try:
                cfg = Config.fromfile(cfg).model
            except FileNotFoundError as e:
                raise FileNotFoundError(
                    f'{field}: config file {cfg!r} does not exist; give a '
                    'model dict or an existing config path.') from e
        if not isinstance(cfg, dict):
            raise TypeError(f'{field} must be a model config dict, a config '
                            f'file path or an nn.Module, got {type(cfg)}.')
        with DefaultScope.overwrite_default_scope('mmkd'):
            model = MODELS.build(copy.deepcopy(cfg))
    for attr in ('loss', 'predict', 'head'):
        if getattr(model, attr, None) is None:
            raise TypeError(
                f'{field} builds a {type(model).__name__}, which has no '
                f'`{attr}`; use a classifier such as mmpretrain\'s '
                'ImageClassifier (backbone, neck, head).')
    return model


@MODELS.register_module()
class SingleTeacherDistiller(BaseModel):
    """Distil a student classifier from one teacher classifier.

    Each training step: the teacher runs on the batch (frozen, in eval mode
    and under ``no_grad`` by default), the student computes its own loss
    (scaled by ``student_loss_weight``), configured taps record
    intermediate features, connectors adapt them, and each distill loss gets
    its named inputs. Validation and ``predict`` use the student alone, so
    metrics and ``save_best`` see the student's numbers.

    Every loss is one config line with its weight and inputs::

        distill_losses=dict(
            loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                         inputs=dict(preds_S='s_logits', preds_T='t_logits')))

    Names available as inputs: ``s_logits``, ``t_logits``, ``gt_labels``,
    every tap name and every connector name.

    Args:
        student (dict | str | nn.Module): Student classifier config, config
            file path, or module.
        teacher (dict | str | nn.Module): Teacher classifier, likewise.
        teacher_ckpt (str, optional): Teacher weights, loaded at build time
            with ``weights_only=True``. An mmengine checkpoint, a bare state
            dict, or a distiller checkpoint (its student is taken). None
            leaves the teacher randomly initialised (a warning says so).
        student_ckpt (str, optional): Weights to start the student from.
        teacher_trainable (bool): Let the teacher's parameters train.
            Defaults to False (frozen, forward under ``no_grad``).
        teacher_eval (bool): Keep the teacher in eval mode (BN statistics
            fixed) even while the distiller trains. Defaults to True.
        student_loss_weight (float): Factor on the student's own losses
            (e.g. 0.1 for RepDistiller's 0.1 CE + 0.9 KL). Defaults to 1.0.
        taps (dict[str, str]): ``{name: 'student.backbone.layer3'}`` feature
            taps by module path (``:input`` records the module's input).
        connectors (dict[str, dict]): ``{name: dict(type=..., input=tap,
            ...)}``; the connector's output is available under its name.
        distill_losses (dict[str, dict]): ``{loss_name: dict(type=...,
            inputs=dict(arg=name), ...)}``. Names must start with ``loss_``
            (mmengine sums only keys containing 'loss').
        check_input_shape (tuple, optional): ``(C, H, W)`` of a dummy batch
            run at build time to check every tap, connector and loss; None
            skips the check. Defaults to ``(3, 32, 32)``.
        data_preprocessor (dict | nn.Module, optional): Feeds both models.
            Defaults to the student's.
        init_cfg (dict, optional): Initialisation config.

    Examples:
        >>> model = dict(
        ...     type='SingleTeacherDistiller',
        ...     student='configs/cifar_models/resnet20_1xb64_cifar100.py',
        ...     teacher='configs/cifar_models/resnet56_1xb64_cifar100.py',
        ...     teacher_ckpt='work_dirs/resnet56/best.pth',
        ...     student_loss_weight=0.1,
        ...     distill_losses=dict(loss_kd=dict(
        ...         type='KDLoss', tau=4, loss_weight=0.9,
        ...         inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 student_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 student_loss_weight: float = 1.0,
                 taps: Optional[Dict[str, str]] = None,
                 connectors: Optional[Dict[str, dict]] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        student = build_classifier(student, 'model.student')
        if data_preprocessor is None:
            data_preprocessor = student.data_preprocessor
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = student
        self.student_ckpt = student_ckpt
        self.teacher_trainable = teacher_trainable
        self.teacher_eval = teacher_eval
        self.student_loss_weight = student_loss_weight
        self._build_teachers(teacher, teacher_ckpt)
        if student_ckpt is not None:
            load_model_weights(self.student, student_ckpt, 'student',
                               'model.student_ckpt')

        self.taps = FeatureTaps(self, taps or {}, self.TAP_PREFIXES)
        self.connectors = nn.ModuleDict()
        self.connector_inputs: Dict[str, str] = {}
        self.distill_losses = nn.ModuleDict()
        self.loss_inputs: Dict[str, Dict[str, str]] = {}
        self._build_connectors(connectors or {})
        self._build_losses(distill_losses or {})
        if check_input_shape is not None:
            self._dry_run(tuple(check_input_shape))

    # ------------------------------------------------------------ teachers
    #: First path components a tap may start with.
    TAP_PREFIXES = ('student', 'teacher')

    def _build_teachers(self, teacher, teacher_ckpt: Optional[str]) -> None:
        self.teacher = build_classifier(teacher, 'model.teacher')
        self.teacher_ckpt = teacher_ckpt
        prepare_teacher(self.teacher, teacher_ckpt, 'model.teacher_ckpt',
                        self.teacher_trainable, self.teacher_eval)

    def named_teachers(self) -> Dict[str, nn.Module]:
        """``{log name: teacher}``; used by hooks such as TeacherEvalHook."""
        return {'teacher': self.teacher}

    def _teacher_tensors(self, inputs) -> Dict[str, torch.Tensor]:
        """The teacher's named outputs (``t_logits``)."""
        return dict(t_logits=self.teacher(inputs, mode='tensor'))

    def _builtin_names(self) -> List[str]:
        return list(BUILTIN_INPUTS)

    # ------------------------------------------------------------ building
    def _known_names(self) -> List[str]:
        return self._builtin_names() + list(self.taps.paths) + list(
            self.connectors)

    def _build_connectors(self, cfgs: Dict[str, dict]) -> None:
        for name, cfg in cfgs.items():
            cfg = dict(cfg)
            source = cfg.pop('input', None)
            if source is None:
                raise ValueError(
                    f'connectors.{name} has no `input`; name the tap it '
                    f'adapts, one of {self._known_names()}.')
            if source not in self._known_names():
                raise ValueError(
                    f'connectors.{name}.input={source!r} is not a known '
                    f'tensor; nearest: {nearest(source, self._known_names())}.'
                )
            if name in self._known_names():
                raise ValueError(f'connectors.{name}: the name is already '
                                 'used by a tap or built-in input; rename it.')
            if cfg.get('type') not in CONNECTORS.module_dict:
                CONNECTORS.import_from_location()
            if cfg.get('type') not in CONNECTORS.module_dict:
                raise KeyError(
                    f"connectors.{name}.type={cfg.get('type')!r} is not a "
                    'registered connector; nearest: '
                    f"{nearest(str(cfg.get('type')), list(CONNECTORS.module_dict))}.")
            self.connectors[name] = CONNECTORS.build(cfg)
            self.connector_inputs[name] = source

    def _build_losses(self, cfgs: Dict[str, dict]) -> None:
        DISTILL_LOSSES.import_from_location()
        for name, cfg in cfgs.items():
            if not name.startswith('loss_'):
                raise ValueError(
                    f'distill_losses.{name}: loss names must start with '
                    f"'loss_' or mmengine drops them from the total; rename "
                    f"it 'loss_{name}'.")
            cfg = dict(cfg)
            inputs = cfg.pop('inputs', None)
            loss_type = cfg.get('type')
            if loss_type not in DISTILL_LOSSES.module_dict:
                raise KeyError(
                    f'distill_losses.{name}.type={loss_type!r} is not a '
                    'registered distill loss; nearest: '
                    f'{nearest(str(loss_type), list(DISTILL_LOSSES.module_dict))}.')
            loss = DISTILL_LOSSES.build(cfg)
            params = inspect.signature(loss.forward).parameters
            required = [
                p for p, v in params.items()
                if v.default is inspect.Parameter.empty and v.kind in (
                    v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY)
            ]
            if not isinstance(inputs, dict):
                raise ValueError(
                    f'distill_losses.{name} needs `inputs=dict(...)` mapping '
                    f'{loss_type}.forward arguments {required} to tensor '
                    f'names such as {self._known_names()}.')
            for arg, source in inputs.items():
                if arg not in params:
                    raise ValueError(
                        f'distill_losses.{name}.inputs: {loss_type}.forward '
                        f'has no argument {arg!r}; its arguments are '
                        f'{list(params)}.')
                if source not in self._known_names():
                    raise ValueError(
                        f'distill_losses.{name}.inputs.{arg}={source!r} is '
                        'not a known tensor; nearest: '
                        f'{nearest(source, self._known_names())}.')
            missing = [p for p in required if p not in inputs]
            if missing:
                raise ValueError(
                    f'distill_losses.{name}.inputs does not give '
                    f'{loss_type}.forward its required arguments {missing}.')
            self.distill_losses[name] = loss
            self.loss_inputs[name] = dict(inputs)

    @torch.no_grad()
    def _dry_run(self, shape: tuple) -> None:
        """Run a dummy batch through everything to catch shape mistakes."""
        if not self.connectors and not self.distill_losses:
            return
        modes = [m.training for m in self.modules()]
        self.eval()
        try:
            x = torch.zeros((2, ) + shape)
            tensors = self._forward_tensors(x, labels=torch.zeros(
                2, dtype=torch.long))
            # data-derived inputs: indices 0 and 1, no precomputed negatives
            tensors.update(sample_idx=torch.arange(2), contrast_idx=None)
            for name in self.distill_losses:
                self._call_loss(name, tensors)
        finally:
            for m, mode in zip(self.modules(), modes):
                m.training = mode
            self.taps.clear()

    # ------------------------------------------------------------ forward
    def _forward_tensors(self, inputs, labels, data_samples=None):
        """Teacher + student forward; returns every named tensor."""
        with self.taps.recording() as records:
            with torch.set_grad_enabled(self.teacher_trainable
                                        and torch.is_grad_enabled()):
                teacher_tensors = self._teacher_tensors(inputs)
            if data_samples is None:
                s_logits = self.student(inputs, mode='tensor')
                student_losses = {}
            else:
                logit_tap = {}
                handle = self.student.head.register_forward_hook(
                    lambda m, a, out: logit_tap.setdefault('s_logits', out))
                try:
                    student_losses = self.student.loss(inputs, data_samples)
                finally:
                    handle.remove()
                s_logits = logit_tap['s_logits']
        tensors = dict(records)
        tensors.update(teacher_tensors)
        tensors.update(s_logits=s_logits, gt_labels=labels)
        for key in self.data_inputs_used():
            tensors[key] = _metainfo_tensor(data_samples, key)
        for name, connector in self.connectors.items():
            source = self.connector_inputs[name]
            try:
                tensors[name] = connector(tensors[source])
            except (RuntimeError, ValueError) as e:
                raise type(e)(
                    f'connectors.{name} failed on input {source!r} of shape '
                    f'{_shape(tensors[source])}: {e}') from e
        tensors['_student_losses'] = student_losses
        return tensors

    def data_inputs_used(self) -> List[str]:
        """The data-derived inputs (``DATA_INPUTS``) some part consumes."""
        used = set(self.connector_inputs.values())
        for inputs in self.loss_inputs.values():
            used.update(inputs.values())
        return [k for k in DATA_INPUTS if k in used]

    def _call_loss(self, name: str, tensors: dict) -> torch.Tensor:
        args = {
            arg: tensors[src]
            for arg, src in self.loss_inputs[name].items()
        }
        try:
            return self.distill_losses[name](**args)
        except (RuntimeError, ValueError, IndexError) as e:
            shapes = {a: _shape(t) for a, t in args.items()}
            raise type(e)(f'distill_losses.{name} failed on inputs {shapes}: '
                          f'{e}') from e

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.student.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student(inputs, mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}"; use loss, predict or '
                           'tensor.')

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        labels = _labels(data_samples)
        tensors = self._forward_tensors(inputs, labels, data_samples)
        losses = {}
        for key, value in tensors['_student_losses'].items():
            if 'loss' in key:
                value = value * self.student_loss_weight
            losses[f'student.{key}'] = value
        for name in self.distill_losses:
            losses[name] = self._call_loss(name, tensors)
        self.taps.clear()
        return losses

    # ------------------------------------------------------------ state
    def train(self, mode: bool = True):
        super().train(mode)
        if self.teacher_eval:
            for teacher in self.named_teachers().values():
                teacher.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the student and connectors; never the teachers.

        The teacher's weights come from ``teacher_ckpt`` at build time (or
        its own random init); the student keeps ``student_ckpt`` if given.
        """
        if self.student_ckpt is None:
            self.student.init_weights()
        for connector in self.connectors.values():
            if hasattr(connector, 'init_weights'):
                connector.init_weights()


def prepare_teacher(teacher: nn.Module, ckpt: Optional[str], field: str,
                    trainable: bool, keep_eval: bool) -> None:
    """Load a teacher's weights (or initialise it), freeze it, set eval."""
    if ckpt is not None:
        load_model_weights(teacher, ckpt, 'teacher', field)
    else:
        teacher.init_weights()
        print_log(
            f'{field} is None: the teacher is randomly initialised '
            '(intended only for training-free uses and smoke tests).',
            logger='current', level=30)
    if not trainable:
        teacher.requires_grad_(False)
    if keep_eval:
        teacher.eval()


def _labels(data_samples) -> Optional[torch.Tensor]:
    if not data_samples:
        return None
    if 'gt_score' in data_samples[0]:
        return torch.stack([s.gt_score for s in data_samples])
    return torch.cat([s.gt_label for s in data_samples])


def _metainfo_tensor(data_samples, key: str):
    if not data_samples:
        return None
    if key not in data_samples[0]:
        raise KeyError(
            f'a distill loss takes {key!r} but the data samples have none; '
            'use the dataset wrapper the method needs (e.g. CRDDataset).')
    return torch.stack([torch.as_tensor(s.get(key)) for s in data_samples])


def _shape(x):
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    if isinstance(x, (list, tuple)):
        return [_shape(i) for i in x]
    return type(x).__name__
