"""Several teachers, one student."""
from typing import Dict, Union

import torch.nn as nn

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .teachers import Teachers


@MODELS.register_module()
class MultiTeacherDistiller(BaseDistiller):
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

    Every other argument means what it means in
    :class:`SingleTeacherDistiller`; trainability and eval mode apply to all
    teachers.

    Args:
        student (dict | str | nn.Module): The student classifier.
        teachers (dict[str, dict]): ``{name: dict(model=..., ckpt=...)}``;
            ``model`` is a model config, config file path or module,
            ``ckpt`` a checkpoint path or None. Names use letters, digits
            and ``_``.
        teacher_trainable (bool): Let the teachers train. Defaults to False.
        teacher_eval (bool): Keep them in eval mode. Defaults to True.
        **kwargs: ``student_ckpt``, ``student_loss_weight``, ``taps``,
            ``connectors``, ``distill_losses``, ``check_input_shape``,
            ``data_preprocessor`` (:class:`BaseDistiller`).
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teachers: Dict[str, dict],
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 **kwargs) -> None:
        for key in ('teacher', 'teacher_ckpt'):
            if key in kwargs:
                raise TypeError(
                    f'MultiTeacherDistiller takes `teachers=dict(name=dict('
                    f'model=..., ckpt=...))`, not `{key}`.')
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=Teachers(teachers, trainable=teacher_trainable,
                                  keep_eval=teacher_eval),
            **kwargs)
