"""Teacher sides: what a distiller's teachers are and what they expose.

A teacher side is a part of a distiller, given to
:class:`~mmkd.models.algorithms.BaseDistiller` at construction. It owns the
teacher modules (registered on the distiller under :meth:`TeacherSide.modules`'
names, so tap paths and checkpoint keys read ``teacher.backbone.layer3``),
declares the names of the tensors it produces (:meth:`output_names`, used by
the build-time checks of every tap, connector and loss), and computes them
(:meth:`forward`). One teacher, several teachers, DIH's teacher with its
heads and CAKD's ViT teacher with its attention tap are four sides; a new
distiller reuses one or writes its own.
"""
import abc
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmkd.utils.checkpoint import is_loaded_later, load_model_weights
from .classifier import build_classifier

__all__ = ['TeacherSide', 'Teacher', 'Teachers', 'prepare_teacher']


def prepare_teacher(teacher: nn.Module,
                    ckpt: Optional[str],
                    field: str,
                    trainable: bool,
                    keep_eval: bool,
                    loader: Optional[Callable[[str], None]] = None) -> None:
    """Load a teacher's weights (or initialise it), freeze it, set eval.

    Args:
        loader (callable, optional): ``loader(ckpt)`` fills the teacher (and
            whatever else the checkpoint holds, e.g. DIH's heads); defaults
            to a strict load of the teacher alone.
    """
    if ckpt is not None:
        if loader is None:
            load_model_weights(teacher, ckpt, 'teacher', field)
        else:
            loader(ckpt)
    elif is_loaded_later():
        pass  # every weight comes from the checkpoint loaded next
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


class TeacherSide(abc.ABC):
    """The teacher part of a distiller.

    Args:
        trainable (bool): The teachers' parameters train, and their forward
            records gradients. Defaults to False (frozen, ``no_grad``).
        keep_eval (bool): The teachers stay in eval mode (BN statistics
            fixed) while the distiller trains. Defaults to True.
    """

    def __init__(self, trainable: bool = False, keep_eval: bool = True):
        self.trainable = trainable
        self.keep_eval = keep_eval

    @abc.abstractmethod
    def modules(self) -> Dict[str, nn.Module]:
        """``{attribute name: module}`` the distiller registers (and taps
        may start from), e.g. ``{'teacher': classifier}``."""

    @abc.abstractmethod
    def named_teachers(self) -> Dict[str, nn.Module]:
        """``{log name: classifier}`` (``TeacherEvalHook`` reports each)."""

    @abc.abstractmethod
    def output_names(self) -> List[str]:
        """The names :meth:`forward` returns, known before any forward."""

    @abc.abstractmethod
    def forward(self, inputs: torch.Tensor,
                data_samples=None) -> Dict[str, object]:
        """The named teacher tensors of one batch.

        Called under ``no_grad`` unless ``trainable``, while the
        distiller's taps record (``teacher.*`` taps fill then).
        """

    def frozen_modules(self) -> List[nn.Module]:
        """Modules kept in eval mode during training."""
        return list(self.named_teachers().values()) if self.keep_eval else []


class Teacher(TeacherSide):
    """One teacher classifier; outputs ``t_logits``.

    Args:
        model (dict | str | nn.Module): The teacher classifier config,
            config file path or module.
        ckpt (str, optional): Its weights (``weights_only=True``); None
            leaves it random, with a warning.
        field (str): The config field, for messages. Defaults to
            ``'model.teacher'``.
        **kwargs: ``trainable``, ``keep_eval`` (:class:`TeacherSide`).
    """

    def __init__(self, model, ckpt: Optional[str] = None,
                 field: str = 'model.teacher', **kwargs) -> None:
        super().__init__(**kwargs)
        self.teacher = build_classifier(model, field)
        self.ckpt = ckpt
        prepare_teacher(self.teacher, ckpt, f'{field}_ckpt', self.trainable,
                        self.keep_eval)

    def modules(self) -> Dict[str, nn.Module]:
        return {'teacher': self.teacher}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {'teacher': self.teacher}

    def output_names(self) -> List[str]:
        return ['t_logits']

    def forward(self, inputs, data_samples=None):
        return dict(t_logits=self.teacher(inputs, mode='tensor'))


class Teachers(TeacherSide):
    """Several named teachers; outputs ``t_logits_<name>`` and
    ``t_logits_mean`` (their average, when all predict the same classes).

    Args:
        teachers (dict[str, dict]): ``{name: dict(model=..., ckpt=...)}``.
        **kwargs: ``trainable``, ``keep_eval`` (:class:`TeacherSide`).
    """

    def __init__(self, teachers: Dict[str, dict], **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(teachers, dict) or not teachers:
            raise TypeError('model.teachers must be a non-empty dict '
                            '{name: dict(model=..., ckpt=...)}.')
        self.teachers = nn.ModuleDict()
        self.ckpts = {}
        for name, spec in teachers.items():
            field = f'model.teachers.{name}'
            if not name.isidentifier():
                raise ValueError(f'{field}: teacher names use letters, '
                                 'digits and _ only.')
            if not isinstance(spec, dict) or 'model' not in spec or set(
                    spec) - {'model', 'ckpt'}:
                keys = sorted(spec) if isinstance(spec, dict) else spec
                raise ValueError(f'{field} must be dict(model=..., ckpt=...)'
                                 f', got {keys!r}.')
            teacher = build_classifier(spec['model'], f'{field}.model')
            prepare_teacher(teacher, spec.get('ckpt'), f'{field}.ckpt',
                            self.trainable, self.keep_eval)
            self.teachers[name] = teacher
            self.ckpts[name] = spec.get('ckpt')

    def modules(self) -> Dict[str, nn.Module]:
        return {'teachers': self.teachers}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {f'teacher.{name}': t for name, t in self.teachers.items()}

    def output_names(self) -> List[str]:
        return [f't_logits_{n}' for n in self.teachers] + ['t_logits_mean']

    def forward(self, inputs, data_samples=None):
        tensors = {
            f't_logits_{name}': teacher(inputs, mode='tensor')
            for name, teacher in self.teachers.items()
        }
        shapes = {tuple(t.shape) for t in tensors.values()}
        if len(shapes) == 1:
            tensors['t_logits_mean'] = torch.stack(list(
                tensors.values())).mean(0)
        return tensors
