"""SRD / SRRL (Yang et al., ICLR 2021; arXiv 2205.06701): the distiller and
its teacher side, which lends the teacher's classifier to the loss.

The student's feature is mapped by a connector into the teacher's feature
space and read by the teacher's frozen linear classifier.
:class:`ClassifierTeacher` declares that classifier's weight and bias as
named outputs (``t_cls_weight``, ``t_cls_bias``), so
:class:`~mmkd.models.losses.SoftmaxRegressionLoss` gets them like any other
tensor; gradients reach the student and the connector through them, not
the teacher (its parameters are frozen).
"""
from typing import List, Optional, Union

import torch.nn as nn

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .taps import nearest
from .teachers import Teacher

__all__ = ['ClassifierTeacher', 'SRDDistiller']


class ClassifierTeacher(Teacher):
    """One teacher that also outputs its linear classifier's parameters.

    Outputs ``t_logits``, ``t_cls_weight`` (``[K, C]``) and ``t_cls_bias``
    (``[K]``, zeros when the layer has none).

    Args:
        model (dict | str | nn.Module): The teacher classifier.
        ckpt (str, optional): Its weights.
        classifier (str): Path of its ``nn.Linear`` classifier, e.g.
            ``'teacher.head.fc'`` (mmpretrain's ``LinearClsHead``).
        **kwargs: ``trainable``, ``keep_eval``.
    """

    def __init__(self, model, ckpt: Optional[str] = None,
                 classifier: str = 'teacher.head.fc', **kwargs) -> None:
        super().__init__(model, ckpt, **kwargs)
        named = {f'teacher.{n}' if n else 'teacher': m
                 for n, m in self.teacher.named_modules()}
        linears = [n for n, m in named.items() if isinstance(m, nn.Linear)]
        fc = named.get(classifier)
        if not isinstance(fc, nn.Linear):
            what = 'no teacher module' if fc is None else \
                f'a {type(fc).__name__}, not an nn.Linear'
            raise ValueError(
                f'model.classifier={classifier!r} is {what}; name the '
                f'teacher\'s linear classifier, e.g. '
                f'{nearest(str(classifier), linears, 3)}.')
        self.classifier = fc

    def output_names(self) -> List[str]:
        return ['t_logits', 't_cls_weight', 't_cls_bias']

    def forward(self, inputs, data_samples=None):
        out = super().forward(inputs, data_samples)
        fc = self.classifier
        out['t_cls_weight'] = fc.weight
        out['t_cls_bias'] = fc.bias if fc.bias is not None else \
            fc.weight.new_zeros(fc.out_features)
        return out


@MODELS.register_module()
class SRDDistiller(BaseDistiller):
    """SRD: a single-teacher distiller that lends the teacher's classifier.

    Everything else is :class:`SingleTeacherDistiller`'s; the extra names
    ``t_cls_weight`` and ``t_cls_bias`` feed a
    ``SoftmaxRegressionLoss``::

        taps=dict(s_feat='student.backbone.layer3',
                  t_feat='teacher.backbone.layer3'),
        connectors=dict(s_proj=dict(type='SRDConnector', in_channels=64,
                                    out_channels=256, input='s_feat')),
        distill_losses=dict(loss_srd=dict(
            type='SoftmaxRegressionLoss',
            inputs=dict(feats_S='s_proj', feats_T='t_feat',
                        preds_T='t_logits', cls_weight='t_cls_weight',
                        cls_bias='t_cls_bias')))

    The student still predicts with its own head.

    The other arguments are :class:`SingleTeacherDistiller`'s (``student``,
    ``teacher``, ``teacher_ckpt``, ``teacher_trainable``, ``teacher_eval``;
    ``student_ckpt``, ``student_loss_weight``, ``taps``, ``connectors``,
    ``distill_losses``, ``check_input_shape`` and ``data_preprocessor`` are
    passed on to :class:`BaseDistiller` as keyword arguments).

    Args:
        classifier (str): The teacher's ``nn.Linear`` classifier path.
            Defaults to ``'teacher.head.fc'``.
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 classifier: str = 'teacher.head.fc',
                 teacher_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 **kwargs) -> None:
        # kwargs: the student side's arguments, as BaseDistiller's
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=ClassifierTeacher(teacher, teacher_ckpt,
                                           classifier=classifier,
                                           trainable=teacher_trainable,
                                           keep_eval=teacher_eval),
            **kwargs)
