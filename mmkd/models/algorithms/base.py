"""The public distiller API: :class:`BaseDistiller`.

A distiller is an mmengine ``BaseModel`` made of

- a **student** classifier (``self.student``);
- a **teacher side** (:class:`~mmkd.models.algorithms.teachers.TeacherSide`),
  given at construction: it owns the teachers, declares the tensor names it
  produces and computes them;
- **taps**, **connectors** and **distill losses** from the config, checked
  against the declared names at build time and by a dry run.

A new distiller subclasses :class:`BaseDistiller`, passes the teacher side
it needs to ``super().__init__`` and overrides only what differs, each a
public method with a default (see ``docs/user_guides/write_distiller.md``):

=================================  =========================================
override                           to change
=================================  =========================================
``student_output_names``,          what the student contributes to the
``student_forward``                named tensors (default ``s_logits``)
``teacher_inputs``                 what the teacher sees (default: the batch)
``predict``                        how the student predicts (val, test)
``export_state_dict``              what the exported checkpoint holds
``check_outputs``                  build-time checks of the losses' extras
``train_step``, ``OwnTrainStep``   an optimisation step of its own
=================================  =========================================

This file is one class and its three small helpers; it stays whole
(under 500 lines) because every method above is an override
point a distiller author reads next to the others: splitting it would
send them through several files to learn one API.
"""
import inspect
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel, BaseModule

from mmkd.registry import CONNECTORS, DISTILL_LOSSES
from mmkd.utils.checkpoint import load_model_weights
from ..interfaces import (DataInputs, LossDictUpdate, MultiTermLoss,
                          TeacherOwner)
from .classifier import build_classifier
from .taps import FeatureTaps, nearest
from .teachers import TeacherSide

__all__ = ['BaseDistiller', 'batch_labels']


class BaseDistiller(TeacherOwner, BaseModel):
    """Base class of every mmkd distiller.

    Each training step (:meth:`distill_step`): the teacher side runs on the
    batch (under ``no_grad`` unless it is trainable), the student computes
    its own losses (scaled by ``student_loss_weight``), taps record
    features, connectors adapt them and each distill loss gets its named
    inputs. A loss may return a tensor or a dict of terms
    (:class:`~mmkd.models.interfaces.MultiTermLoss`). Validation and
    ``predict`` use the student alone, so metrics and ``save_best`` see the
    student's numbers.

    Args:
        student (dict | str | nn.Module): Student classifier config, config
            file path, or module.
        teacher_side (TeacherSide): The teacher part, built by the subclass.
        student_ckpt (str, optional): Weights to start the student from.
        student_loss_weight (float): Factor on the student's own losses.
            Defaults to 1.0.
        taps (dict[str, str]): ``{name: 'student.backbone.layer3'}``
            feature taps by module path (``:input`` records the input).
        connectors (dict[str, dict]): ``{name: dict(type=..., input=name,
            ...)}``; the output is available under the connector's name.
            ``input`` may be a list of names: the connector then gets the
            list of tensors (ReviewKD's fusion of all stages).
        distill_losses (dict[str, dict]): ``{loss_name: dict(type=...,
            inputs=dict(arg=name), ...)}``; names start with ``loss_``. A
            list of names gives the argument a list of tensors.
        check_input_shape (tuple, optional): ``(C, H, W)`` of a dummy batch
            run at build time through every part; None skips it. Defaults
            to ``(3, 32, 32)``.
        data_preprocessor (dict | nn.Module, optional): Feeds student and
            teachers. Defaults to the student's.

    Initialisation configs belong to the student's (and teachers') model
    configs; the distiller itself has no ``init_cfg``.
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher_side: TeacherSide,
                 student_ckpt: Optional[str] = None,
                 student_loss_weight: float = 1.0,
                 taps: Optional[Dict[str, str]] = None,
                 connectors: Optional[Dict[str, dict]] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        student = build_classifier(student, 'model.student')
        if data_preprocessor is None:
            data_preprocessor = student.data_preprocessor
        super().__init__(data_preprocessor=data_preprocessor)
        if not isinstance(teacher_side, TeacherSide):
            raise TypeError('teacher_side must be a TeacherSide (Teacher, '
                            f'Teachers, ...), got {type(teacher_side)}.')
        self.student = student
        self.student_ckpt = student_ckpt
        self.student_loss_weight = student_loss_weight
        self.teacher_side = teacher_side
        for name, module in teacher_side.modules().items():
            self.add_module(name, module)
        if student_ckpt is not None:
            load_model_weights(self.student, student_ckpt, 'student',
                               'model.student_ckpt')
        self.taps = FeatureTaps(self, taps or {},
                                ('student', ) + tuple(teacher_side.modules()))
        self.connectors = nn.ModuleDict()
        self.connector_inputs: Dict[str, str] = {}
        self.distill_losses = nn.ModuleDict()
        self.loss_inputs: Dict[str, Dict[str, str]] = {}
        self._data_inputs: Dict[str, nn.Module] = {}
        self._build_connectors(connectors or {})
        self._build_losses(distill_losses or {})
        if check_input_shape is not None:
            self.dry_run(tuple(check_input_shape))

    # ------------------------------------------------------------ declared
    def student_output_names(self) -> List[str]:
        """Names :meth:`student_forward` returns (besides ``gt_labels``)."""
        return ['s_logits']

    def known_names(self) -> List[str]:
        """Every tensor name a connector or loss may take as input."""
        return (self.student_output_names() + ['gt_labels'] +
                self.teacher_side.output_names() + list(self.taps.paths) +
                list(self.connectors) + list(self._data_inputs))

    def named_teachers(self) -> Dict[str, nn.Module]:
        return self.teacher_side.named_teachers()

    @property
    def teacher_trainable(self) -> bool:
        return self.teacher_side.trainable

    def data_inputs_used(self) -> List[str]:
        """The data-sample fields some connector or loss takes."""
        return list(self._data_inputs)

    # ------------------------------------------------------------ building
    def _declare_data_inputs(self, part: nn.Module, used: List) -> None:
        declared = part.data_inputs if isinstance(part, DataInputs) else ()
        for name in _flat_names(used):
            if name in declared:
                self._data_inputs[name] = part

    def _check_source(self, field: str, source, extra=()) -> None:
        known = self.known_names() + list(extra)
        if isinstance(source, (list, tuple)):
            if not source:
                raise ValueError(f'{field} is an empty list; name one or '
                                 'more tensors.')
            for i, one in enumerate(source):
                self._check_source(f'{field}[{i}]', one, extra)
            return
        if not isinstance(source, str) or source not in known:
            raise ValueError(f'{field}={source!r} is not a known tensor; '
                             f'nearest: {nearest(str(source), known)}.')

    def _build_connectors(self, cfgs: Dict[str, dict]) -> None:
        for name, cfg in cfgs.items():
            cfg = dict(cfg)
            source = cfg.pop('input', None)
            if source is None:
                raise ValueError(
                    f'connectors.{name} has no `input`; name the tensor it '
                    f'adapts, one of {self.known_names()}.')
            if name in self.known_names():
                raise ValueError(f'connectors.{name}: the name is already '
                                 'used by a tap or built-in input; rename it.')
            if cfg.get('type') not in CONNECTORS.module_dict:
                CONNECTORS.import_from_location()
            if cfg.get('type') not in CONNECTORS.module_dict:
                raise KeyError(
                    f"connectors.{name}.type={cfg.get('type')!r} is not a "
                    'registered connector; nearest: '
                    f"{nearest(str(cfg.get('type')), list(CONNECTORS.module_dict))}.")
            connector = CONNECTORS.build(cfg)
            own = connector.data_inputs if isinstance(connector,
                                                      DataInputs) else ()
            self._check_source(f'connectors.{name}.input', source, own)
            self._declare_data_inputs(connector, [source])
            self.connectors[name] = connector
            self.connector_inputs[name] = (list(source) if isinstance(
                source, (list, tuple)) else source)

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
                    f'names such as {self.known_names()}.')
            own = loss.data_inputs if isinstance(loss, DataInputs) else ()
            for arg, source in inputs.items():
                if arg not in params:
                    raise ValueError(
                        f'distill_losses.{name}.inputs: {loss_type}.forward '
                        f'has no argument {arg!r}; its arguments are '
                        f'{list(params)}.')
                self._check_source(f'distill_losses.{name}.inputs.{arg}',
                                   source, own)
            missing = [p for p in required if p not in inputs]
            if missing:
                raise ValueError(
                    f'distill_losses.{name}.inputs does not give '
                    f'{loss_type}.forward its required arguments {missing}.')
            self._declare_data_inputs(loss, list(inputs.values()))
            self.distill_losses[name] = loss
            self.loss_inputs[name] = {
                arg: list(src) if isinstance(src, (list, tuple)) else src
                for arg, src in inputs.items()}

    @torch.no_grad()
    def dry_run(self, shape: tuple) -> None:
        """Run a dummy batch of 2 through every part at build time.

        Catches shape mistakes and loss outputs that are neither a tensor
        nor a dict of tensors, then calls :meth:`check_outputs` with the
        losses' extras. Every module's train/eval mode is restored and no
        BN statistic moves (everything runs in eval mode).
        """
        modes = [m.training for m in self.modules()]
        self.eval()
        try:
            _, extras = self.distill_step(torch.zeros((2, ) + shape))
            self.check_outputs(extras)
        finally:
            for m, mode in zip(self.modules(), modes):
                m.training = mode
            self.taps.clear()

    def check_outputs(self, extras: Dict[str, Dict[str, torch.Tensor]]
                      ) -> None:
        """Build-time check of the dry run's extras (default: nothing).

        Args:
            extras (dict): ``{loss name: {key: tensor}}``, the
                ``extra_outputs`` of every :class:`MultiTermLoss`.
        """

    # ------------------------------------------------------------ forward
    def teacher_inputs(self, inputs: torch.Tensor, data_samples=None):
        """What the teacher side sees; defaults to the student's batch."""
        return inputs

    def student_forward(self, inputs: torch.Tensor, data_samples=None
                        ) -> Tuple[Dict[str, torch.Tensor], dict]:
        """The student in training: its named tensors and its own losses.

        Default: ``s_logits`` (the head's output) and the classifier's
        losses (none when ``data_samples`` is None, as in the dry run).
        """
        if data_samples is None:
            return dict(s_logits=self.student(inputs, mode='tensor')), {}
        logit_tap = {}
        handle = self.student.head.register_forward_hook(
            lambda m, a, out: logit_tap.setdefault('s_logits', out))
        try:
            losses = self.student.loss(inputs, data_samples)
        finally:
            handle.remove()
        return dict(s_logits=logit_tap['s_logits']), losses

    def forward_tensors(self, inputs: torch.Tensor, data_samples=None
                        ) -> Tuple[Dict[str, object], dict]:
        """Every named tensor of one batch, and the student's own losses.

        With ``data_samples=None`` (the dry run) labels are zeros and data
        inputs are their parts' ``dummy_data_input``.
        """
        with self.taps.recording() as records:
            grad = self.teacher_side.trainable and torch.is_grad_enabled()
            with torch.set_grad_enabled(grad):
                teacher = self.teacher_side.forward(
                    self.teacher_inputs(inputs, data_samples), data_samples)
            student, student_losses = self.student_forward(
                inputs, data_samples)
        tensors = dict(records)
        tensors.update(teacher)
        tensors.update(student)
        n = inputs.shape[0]
        if data_samples is None:
            tensors['gt_labels'] = torch.zeros(n, dtype=torch.long)
            for key, part in self._data_inputs.items():
                tensors[key] = part.dummy_data_input(key, n)
        else:
            tensors['gt_labels'] = batch_labels(data_samples)
            for key in self._data_inputs:
                tensors[key] = _metainfo_tensor(data_samples, key)
        for name, connector in self.connectors.items():
            source = self.connector_inputs[name]
            try:
                tensors[name] = connector(_gather(tensors, source))
            except (RuntimeError, ValueError) as e:
                raise type(e)(
                    f'connectors.{name} failed on input {source!r} of shape '
                    f'{_shape(_gather(tensors, source))}: {e}') from e
        return tensors, student_losses

    def call_loss(self, name: str, tensors: dict):
        """Call distill loss ``name`` on its configured inputs."""
        args = {arg: _gather(tensors, src)
                for arg, src in self.loss_inputs[name].items()}
        try:
            return self.distill_losses[name](**args)
        except (RuntimeError, ValueError, IndexError) as e:
            shapes = {a: _shape(t) for a, t in args.items()}
            raise type(e)(f'distill_losses.{name} failed on inputs {shapes}: '
                          f'{e}') from e

    def distill_step(self, inputs: torch.Tensor, data_samples=None
                     ) -> Tuple[Dict[str, torch.Tensor], Dict[str, dict]]:
        """The losses of one batch, and the losses' extra outputs.

        Returns:
            tuple: ``losses`` (``student.<key>`` for the student's own, the
            loss name for a tensor, ``<name>.<key>`` for each term of a dict)
            and ``extras`` (``{loss name: {key: tensor}}``).
        """
        tensors, student_losses = self.forward_tensors(inputs, data_samples)
        losses, extras = {}, {}
        for key, value in student_losses.items():
            if 'loss' in key:
                value = value * self.student_loss_weight
            losses[f'student.{key}'] = value
        for name, loss in self.distill_losses.items():
            out = self.call_loss(name, tensors)
            if isinstance(out, torch.Tensor):
                losses[name] = out
                continue
            if not isinstance(out, dict):
                raise TypeError(
                    f'distill_losses.{name} returned a {type(out).__name__}; '
                    'a loss returns a tensor or a dict of tensors.')
            keep = loss.extra_outputs if isinstance(loss,
                                                    MultiTermLoss) else ()
            extras[name] = {k: out[k] for k in keep if k in out}
            for key, value in out.items():
                if key in keep:
                    continue
                if not isinstance(value, torch.Tensor):
                    raise TypeError(
                        f'distill_losses.{name} returned {key!r} as a '
                        f'{type(value).__name__}; return tensors, or make '
                        'the loss a MultiTermLoss listing it in '
                        'extra_outputs.')
                losses[f'{name}.{key}'] = value
        self.taps.clear()
        return losses, extras

    def loss(self, inputs: torch.Tensor, data_samples) -> dict:
        return self.distill_step(inputs, data_samples)[0]

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """mmengine's train step; an optim wrapper that is a
        :class:`~mmkd.models.interfaces.LossDictUpdate` (DOT) gets the loss
        dict instead of the summed loss."""
        if not isinstance(optim_wrapper, LossDictUpdate):
            return super().train_step(data, optim_wrapper)
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        _, log_vars = self.parse_losses(losses)
        optim_wrapper.update_from_losses(losses)
        return log_vars

    def predict(self, inputs: torch.Tensor, data_samples=None):
        """Predictions for validation and testing: the student's."""
        return self.student.predict(inputs, data_samples)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student(inputs, mode='tensor')
        raise RuntimeError(f'Invalid mode "{mode}"; use loss, predict or '
                           'tensor.')

    # ------------------------------------------------------------ state
    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        """The exported student checkpoint's ``state_dict``.

        Default: the student's own weights, which mmpretrain loads into the
        student's config. A distiller whose prediction involves more (e.g.
        a projector and the teacher's classifier) returns what its exported
        model needs under the keys of that model's config.
        """
        return {k: v.detach().cpu() for k, v in
                self.student.state_dict().items()}

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self.teacher_side.frozen_modules():
            module.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the student (unless ``student_ckpt``) and every
        connector and loss that is an mmengine ``BaseModule``; never the
        teachers, which keep their checkpoints."""
        if self.student_ckpt is None:
            self.student.init_weights()
        for part in list(self.connectors.values()) + list(
                self.distill_losses.values()):
            if isinstance(part, BaseModule):
                part.init_weights()


def batch_labels(data_samples) -> Optional[torch.Tensor]:
    """The labels of a batch (``gt_score`` rows for soft labels)."""
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


def _flat_names(sources) -> List[str]:
    """Tensor names in a list of sources, each a name or a list of names."""
    names = []
    for source in sources:
        names += list(source) if isinstance(source, (list, tuple)) else [
            source]
    return names


def _gather(tensors: dict, source):
    """The tensor named ``source``, or the list of tensors a list names."""
    if isinstance(source, list):
        return [tensors[s] for s in source]
    return tensors[source]


def _shape(x):
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    if isinstance(x, (list, tuple)):
        return [_shape(i) for i in x]
    return type(x).__name__
