"""SimKD as an out-of-tree distiller, written only against mmkd's public API.

Chen et al., "Knowledge Distillation with the Reused Teacher Classifier",
CVPR 2022. A projector maps the student's last feature map (before global
pooling) into the teacher's feature space; the loss is the mean squared
error between the projected map and the teacher's map; and the student
*predicts through the teacher's frozen classifier*: student backbone ->
projector -> global average pooling -> teacher head.

What the plugin uses of mmkd: ``BaseDistiller`` (overriding
``student_output_names``, ``student_forward``, ``predict`` and
``export_state_dict``), the ``Teacher`` side (extended to output the
teacher's map), ``build_classifier`` and the registries.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.models.algorithms import BaseDistiller, Teacher, build_classifier
from mmkd.registry import MODELS


@MODELS.register_module()
class SimKDNeck(nn.Module):
    """SimKD's projector, usable as an mmpretrain neck.

    ``transfer``: 1x1 conv to ``out_channels // factor``, 3x3 conv, 1x1
    conv to ``out_channels``, each followed by BN and ReLU (the authors'
    projector). ``forward`` takes a backbone's tuple of maps, projects the
    last one (average-pooled to ``out_size`` first when given, as the
    authors do when the student's map is larger) and returns the globally
    pooled vector as a one-tuple, what ``LinearClsHead`` expects.

    Args:
        in_channels (int): Channels of the student's last map.
        out_channels (int): Channels of the teacher's last map.
        factor (int): Bottleneck reduction. Defaults to 2.
        out_size (int, optional): Spatial size to pool the student's map
            to before projecting. Defaults to None (keep it).
    """

    def __init__(self, in_channels: int, out_channels: int, factor: int = 2,
                 out_size: Optional[int] = None) -> None:
        super().__init__()
        mid = out_channels // factor
        self.out_size = out_size
        self.transfer = nn.Sequential(
            nn.Conv2d(in_channels, mid, 1, bias=False), nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def project(self, feat: torch.Tensor) -> torch.Tensor:
        """The projected map ``[N, out_channels, H', W']``."""
        if self.out_size is not None and feat.shape[-1] > self.out_size:
            feat = F.adaptive_avg_pool2d(feat, self.out_size)
        return self.transfer(feat)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        feat = self.project(inputs[-1])
        return (F.adaptive_avg_pool2d(feat, 1).flatten(1), )


class FeatureTeacher(Teacher):
    """One teacher that also outputs its last map ``t_feat`` (before
    pooling), average-pooled to ``out_size`` when given."""

    def __init__(self, *args, out_size: Optional[int] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.out_size = out_size

    def output_names(self) -> List[str]:
        return super().output_names() + ['t_feat']

    def forward(self, inputs, data_samples=None):
        feats = self.teacher.backbone(inputs)
        logits = self.teacher.head(self.teacher.neck(feats))
        t_feat = feats[-1]
        if self.out_size is not None and t_feat.shape[-1] > self.out_size:
            t_feat = F.adaptive_avg_pool2d(t_feat, self.out_size)
        return dict(t_logits=logits, t_feat=t_feat)


@torch.no_grad()
def _last_map(model: nn.Module, shape: Sequence[int]) -> torch.Size:
    was = model.training
    model.eval()
    try:
        return model.backbone(torch.zeros((1, ) + tuple(shape)))[-1].shape
    finally:
        model.train(was)


@MODELS.register_module()
class SimKDDistiller(BaseDistiller):
    """SimKD: project the student's map, reuse the teacher's classifier.

    Named tensors for losses: ``s_proj`` (the projected student map),
    ``s_logits`` (the teacher's head on the pooled projection), ``t_feat``
    (the teacher's last map), ``t_logits``, ``gt_labels``. SimKD's loss::

        distill_losses=dict(loss_simkd=dict(
            type='HintLoss', inputs=dict(feats_S='s_proj', feats_T='t_feat')))

    The student's own head is not used (no CE: the authors train with the
    feature loss alone), so the student runs its backbone only and
    ``student_loss_weight`` has nothing to scale. ``predict`` and the
    exported checkpoint go through the projector and the teacher's head:
    :meth:`export_state_dict` returns ``backbone.*`` (student),
    ``neck.*`` (projector) and ``head.*`` (teacher), the keys of an
    mmpretrain ``ImageClassifier`` with the student's backbone, a
    ``SimKDNeck`` neck and the teacher's head (see the project README).

    Args:
        student (dict | str | nn.Module): The student classifier (its head
            is ignored).
        teacher (dict | str | nn.Module): The teacher classifier.
        teacher_ckpt (str, optional): Teacher weights.
        factor (int): Projector bottleneck reduction. Defaults to 2.
        input_shape (Sequence[int]): ``(C, H, W)`` of the training images;
            sizes the projector and runs the build-time dry run.
        **kwargs: ``taps``, ``connectors``, ``distill_losses``,
            ``data_preprocessor`` of :class:`BaseDistiller`.
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 factor: int = 2,
                 input_shape: Sequence[int] = (3, 32, 32),
                 **kwargs) -> None:
        student = build_classifier(student, 'model.student')
        side = FeatureTeacher(teacher, teacher_ckpt)
        s_shape = _last_map(student, input_shape)
        t_shape = _last_map(side.teacher, input_shape)
        size = min(s_shape[-1], t_shape[-1])
        side.out_size = size
        super().__init__(student=student, teacher_side=side,
                         check_input_shape=None, **kwargs)
        self.projector = SimKDNeck(s_shape[1], t_shape[1], factor, size)
        self.dry_run(tuple(input_shape))

    def student_output_names(self) -> List[str]:
        return ['s_proj', 's_logits']

    def _student_logits(self, inputs):
        feat = self.projector.project(self.student.backbone(inputs)[-1])
        pooled = F.adaptive_avg_pool2d(feat, 1).flatten(1)
        return feat, self.teacher.head((pooled, ))

    def student_forward(self, inputs, data_samples=None):
        feat, logits = self._student_logits(inputs)
        return dict(s_proj=feat, s_logits=logits), {}

    def predict(self, inputs, data_samples=None):
        """The student's backbone, the projector, the teacher's head."""
        feats = self.projector(self.student.backbone(inputs))
        return self.teacher.head.predict(feats, data_samples)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self._student_logits(inputs)[1]
        return super().forward(inputs, data_samples, mode)

    def export_state_dict(self) -> Dict[str, torch.Tensor]:
        state = {}
        for prefix, module in (('backbone', self.student.backbone),
                               ('neck', self.projector),
                               ('head', self.teacher.head)):
            state.update({f'{prefix}.{k}': v.detach().cpu()
                          for k, v in module.state_dict().items()})
        return state

    def init_weights(self) -> None:
        super().init_weights()
        for m in self.projector.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
