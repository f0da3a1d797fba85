"""Several teachers, one student."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .single_teacher import (BUILTIN_INPUTS, SingleTeacherDistiller,
                             build_classifier, prepare_teacher)


@MODELS.register_module()
class MultiTeacherDistiller(SingleTeacherDistiller):
    """Distil a student from several teachers.

    Each teacher is named; its logits are available to losses as
    ``t_logits_<name>`` and its modules to taps as ``teachers.<name>.*``.
    ``t_logits_mean`` is the average of all teachers' logits (an ensemble
    teacher; all teachers must predict the same classes). Give each teacher
    its own losses and weights, or distil from the ensemble::

        teachers=dict(
            res56=dict(model=dict(type='ImageClassifier', ...),
                       ckpt='work_dirs/res56/epoch_240.pth'),
            wrn402=dict(model='configs/cifar_models/wrn-40-2_....py',
                        ckpt='work_dirs/wrn402/epoch_240.pth')),
        distill_losses=dict(
            loss_kd_res56=dict(type='KDLoss', tau=4, loss_weight=0.45,
                               inputs=dict(preds_S='s_logits',
                                           preds_T='t_logits_res56')),
            loss_kd_wrn402=dict(type='KDLoss', tau=4, loss_weight=0.45,
                                inputs=dict(preds_S='s_logits',
                                            preds_T='t_logits_wrn402')))

    Every other argument (``student``, ``taps``, ``connectors``,
    ``distill_losses``, ``teacher_trainable``, ``teacher_eval``, ...) means
    what it means in :class:`SingleTeacherDistiller`; trainability and eval
    mode apply to all teachers.

    Args:
        student (dict | str | nn.Module): The student classifier.
        teachers (dict[str, dict]): ``{name: dict(model=..., ckpt=...)}``;
            ``model`` is a model config, config file path or module,
            ``ckpt`` a checkpoint path or None. Names use letters, digits
            and ``_``.
        **kwargs: The other arguments of :class:`SingleTeacherDistiller`
            (not ``teacher`` or ``teacher_ckpt``).
    """

    TAP_PREFIXES = ('student', 'teachers')

    def __init__(self, student, teachers: Dict[str, dict], **kwargs) -> None:
        for key in ('teacher', 'teacher_ckpt'):
            if key in kwargs:
                raise TypeError(
                    f'MultiTeacherDistiller takes `teachers=dict(name=dict('
                    f'model=..., ckpt=...))`, not `{key}`.')
        super().__init__(student=student, teacher=teachers, **kwargs)

    def _build_teachers(self, teachers, teacher_ckpt: Optional[str]) -> None:
        if not isinstance(teachers, dict) or not teachers:
            raise TypeError('model.teachers must be a non-empty dict '
                            '{name: dict(model=..., ckpt=...)}.')
        self.teachers = nn.ModuleDict()
        self.teacher_ckpts = {}
        for name, spec in teachers.items():
            field = f'model.teachers.{name}'
            if not name.isidentifier():
                raise ValueError(f'{field}: teacher names use letters, '
                                 'digits and _ only.')
            if not isinstance(spec, dict) or 'model' not in spec or set(
                    spec) - {'model', 'ckpt'}:
                raise ValueError(f'{field} must be dict(model=..., ckpt=...)'
                                 f', got keys {sorted(spec)}.')
            teacher = build_classifier(spec['model'], f'{field}.model')
            prepare_teacher(teacher, spec.get('ckpt'), f'{field}.ckpt',
                            self.teacher_trainable, self.teacher_eval)
            self.teachers[name] = teacher
            self.teacher_ckpts[name] = spec.get('ckpt')

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {f'teacher.{name}': t for name, t in self.teachers.items()}

    def _builtin_names(self) -> List[str]:
        names = [n for n in BUILTIN_INPUTS if n != 't_logits']
        return names + [f't_logits_{n}' for n in self.teachers] + [
            't_logits_mean'
        ]

    def _teacher_tensors(self, inputs) -> Dict[str, torch.Tensor]:
        tensors = {
            f't_logits_{name}': teacher(inputs, mode='tensor')
            for name, teacher in self.teachers.items()
        }
        shapes = {tuple(t.shape) for t in tensors.values()}
        if len(shapes) == 1:
            tensors['t_logits_mean'] = torch.stack(list(
                tensors.values())).mean(0)
        return tensors
