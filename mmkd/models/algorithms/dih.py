"""DIH: distilling knowledge via intermediate classifier heads.

Asadian & Salehi-Abari, "Distilling Knowledge via Intermediate Classifier
Heads", arXiv 2103.00497. Three stages, each an ordinary mmkd config
(``configs/dih/pipeline_*.py`` chains them):

1. Train the teacher with CE (an ordinary classifier config).
2. :class:`~mmkd.models.algorithms.dih_finetuner.HeadFinetuner`: mount k
   heads (``DIHHead``) on the frozen teacher and train only them, each
   with CE. :class:`HeadSelectHook` keeps, per head, the weights with the best top-1 on a validation split
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
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.logging import print_log

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .dih_heads import load_teacher_and_heads, mount_heads
from .taps import FeatureTaps
from .teachers import TeacherSide, prepare_teacher

__all__ = ['DIHTeacher', 'DIHDistiller']


class DIHTeacher(TeacherSide):
    """A teacher with frozen DIH heads on its intermediate layers.

    Outputs ``t_logits`` (the teacher's classifier), ``t_head_logits_<j>``
    (head ``j``, mount order) and ``t_cohort_logits`` (the tuple of all).
    Teacher and heads load from one :class:`HeadFinetuner` checkpoint; the
    heads are always frozen and in eval mode.

    Args:
        model (dict | str | nn.Module): The teacher classifier.
        ckpt (str, optional): Stage 2's checkpoint; None leaves teacher and
            heads random (warnings; smoke tests only).
        mounts (Sequence[str], optional): As in :class:`HeadFinetuner`.
        head (dict): As in :class:`HeadFinetuner`.
        input_shape (Sequence[int]): ``(C, H, W)`` that sizes the heads.
        **kwargs: ``trainable``, ``keep_eval``.
    """

    def __init__(self, model, ckpt: Optional[str], mounts, head: dict,
                 input_shape: Sequence[int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.teacher = build_classifier(model, 'model.teacher')
        self.ckpt = ckpt
        root = nn.Module()  # mount paths start with 'teacher.'
        root.add_module('teacher', self.teacher)
        self.mounts, self.heads = mount_heads(root, self.teacher, mounts,
                                              head, tuple(input_shape))
        self.mount_taps = FeatureTaps(root, dict(self.mounts), ('teacher', ))
        prepare_teacher(
            self.teacher, ckpt, 'model.teacher_ckpt', self.trainable,
            self.keep_eval,
            loader=lambda path: load_teacher_and_heads(
                self.teacher, self.heads, self.mounts, path,
                'model.teacher_ckpt'))
        if ckpt is None:
            print_log(
                'model.teacher_ckpt is None: the DIH heads are random too '
                '(intended only for smoke tests).', logger='current',
                level=30)
        self.heads.requires_grad_(False)
        self.heads.eval()

    def modules(self) -> Dict[str, nn.Module]:
        return {'teacher': self.teacher, 'heads': self.heads}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {'teacher': self.teacher}

    def output_names(self) -> List[str]:
        heads = [f't_head_logits_{j}' for j in range(1, len(self.heads) + 1)]
        return ['t_logits'] + heads + ['t_cohort_logits']

    def frozen_modules(self) -> List[nn.Module]:
        return super().frozen_modules() + [self.heads]

    def forward(self, inputs, data_samples=None):
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


@MODELS.register_module()
class DIHDistiller(BaseDistiller):
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
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 **kwargs) -> None:
        if 'check_input_shape' in kwargs:
            raise TypeError('DIHDistiller takes input_shape (it sizes the '
                            'heads and runs the dry run), not '
                            'check_input_shape.')
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=DIHTeacher(teacher, teacher_ckpt, mounts, head,
                                    input_shape,
                                    trainable=teacher_trainable,
                                    keep_eval=teacher_eval),
            check_input_shape=input_shape,
            **kwargs)
