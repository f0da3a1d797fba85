"""Self-distillation: a student taught by its own deepest classifier."""
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn

from mmkd.registry import MODELS
from .base import BaseDistiller
from .teachers import TeacherSide

__all__ = ['SelfDistiller', 'NoTeacher']


class NoTeacher(TeacherSide):
    """The teacher side of self-distillation: none; outputs nothing."""

    def modules(self) -> Dict[str, nn.Module]:
        return {}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {}

    def output_names(self) -> List[str]:
        return []

    def forward(self, inputs, data_samples=None):
        return {}


@MODELS.register_module()
class SelfDistiller(BaseDistiller):
    """Self-distillation with no teacher, e.g. BYOT (Zhang et al., ICCV
    2019, "Be Your Own Teacher").

    The student's deepest classifier and features teach shallow branches
    mounted on its own stages. Everything is the ordinary distiller
    config: ``taps`` on the student's stages (a stage the backbone does not
    have is a build-time error naming the nearest module paths),
    ``connectors`` for each branch (bottleneck convolutions that bring a
    stage's feature to the deepest stage's shape, then a pooled linear
    classifier), and ``distill_losses`` (``PeerCELoss`` for a branch's
    cross-entropy, ``KDLoss`` from ``s_logits`` - the deepest classifier,
    detached - to the branch, ``HintLoss`` from the deepest feature,
    detached, to the branch's bottleneck output).
    ``configs/_base_/methods/byot.py`` holds BYOT's branches for a
    four-stage ResNet.

    The branches are connectors, so the exported checkpoint (the student's
    weights) and ``predict`` leave them out.

    Args:
        student (dict | str | nn.Module): The classifier.
        **kwargs: ``student_loss_weight``, ``taps``, ``connectors``,
            ``distill_losses``, ``check_input_shape``,
            ``data_preprocessor`` (:class:`BaseDistiller`).
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 student_ckpt: Optional[str] = None,
                 student_loss_weight: float = 1.0,
                 taps: Optional[Dict[str, str]] = None,
                 connectors: Optional[Dict[str, dict]] = None,
                 distill_losses: Optional[Dict[str, dict]] = None,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        super().__init__(student=student, teacher_side=NoTeacher(),
                         student_ckpt=student_ckpt,
                         student_loss_weight=student_loss_weight, taps=taps,
                         connectors=connectors,
                         distill_losses=distill_losses,
                         check_input_shape=check_input_shape,
                         data_preprocessor=data_preprocessor)
