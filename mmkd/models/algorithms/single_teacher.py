"""One teacher, one student: the distiller most methods use."""
from typing import Dict, Optional, Sequence, Union

import torch.nn as nn

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .teachers import Teacher


@MODELS.register_module()
class SingleTeacherDistiller(BaseDistiller):
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
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        # the student first: random initialisation follows build order
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=Teacher(teacher, teacher_ckpt,
                                 trainable=teacher_trainable,
                                 keep_eval=teacher_eval),
            student_ckpt=student_ckpt,
            student_loss_weight=student_loss_weight,
            taps=taps,
            connectors=connectors,
            distill_losses=distill_losses,
            check_input_shape=check_input_shape,
            data_preprocessor=data_preprocessor)
