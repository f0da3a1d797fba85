"""MLKD's distiller: a weak and a strong view through student and teacher."""
from typing import Dict, List, Tuple

import torch

from mmkd.registry import MODELS
from ..interfaces import DatasetChecked
from .single_teacher import SingleTeacherDistiller

__all__ = ['MLKDDistiller']


@MODELS.register_module()
class MLKDDistiller(DatasetChecked, SingleTeacherDistiller):
    """Jin et al., "Multi-level Logit Distillation", CVPR 2023.

    Each training image comes in two views: the batch itself (the weak
    view: crop and flip) and a strong view stored by the ``ExtraView``
    transform under ``strong_key`` (``PackInputs(algorithm_keys=
    ['img_strong'])``). The student runs on each view separately, with its
    own loss on both (``student.loss`` and ``student.loss_strong``, each
    scaled by ``student_loss_weight``: the official ``0.1 (CE_w + CE_s)``);
    the frozen teacher, in eval mode, runs once on both views stacked. The
    names a loss may take are those of ``SingleTeacherDistiller`` plus
    ``s_logits_strong`` and ``t_logits_strong`` (``MLKDLoss``). Taps and
    connectors on the teacher see the stacked ``[2N, ...]`` batch.
    Validation uses the student on the batch alone.

    In the build-time dry run (no data samples) the strong view is the
    batch itself. ``DataCheckHook`` (default runtime) checks before the
    first iteration that the training samples carry the strong view.

    Args:
        strong_key (str): Data-sample field of the strong view. Defaults
            to ``'img_strong'``.
        **kwargs: As :class:`SingleTeacherDistiller`.
    """

    def __init__(self, *args, strong_key: str = 'img_strong',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)  # the dry run reads no samples
        self.strong_key = strong_key

    def check_dataset(self, dataset) -> None:
        """Raise if the first training sample has no strong view (called
        by ``DataCheckHook`` before the first iteration)."""
        if len(dataset) == 0:
            return
        sample = dataset[0]
        data_sample = sample.get('data_samples') if isinstance(
            sample, dict) else None
        if data_sample is None or self.strong_key not in data_sample:
            raise ValueError(
                f'MLKDDistiller needs the strong view {self.strong_key!r} '
                'in every training sample, but train_dataloader.dataset.'
                f"pipeline gives none; add dict(type='ExtraView', key="
                f"'{self.strong_key}', pipeline=[...]) to that pipeline and "
                f"PackInputs(algorithm_keys=['{self.strong_key}']) at its "
                'end (configs/_base_/datasets/cifar100_weak-strong_bs64.py '
                'does both).')

    def student_output_names(self) -> List[str]:
        return ['s_logits', 's_logits_strong']

    def known_names(self) -> List[str]:
        return super().known_names() + ['t_logits_strong']

    def strong_view(self, inputs: torch.Tensor, data_samples=None
                    ) -> torch.Tensor:
        """The strong view of the batch (the batch in the dry run)."""
        if data_samples is None:
            return inputs
        if self.strong_key not in data_samples[0]:
            raise KeyError(
                f'MLKDDistiller needs the strong view {self.strong_key!r} in '
                f"the data samples; add dict(type='ExtraView', key="
                f"'{self.strong_key}', pipeline=[...]) and PackInputs("
                f"algorithm_keys=['{self.strong_key}']) to the training "
                'pipeline (see configs/mlkd).')
        views = [s.get(self.strong_key) for s in data_samples]
        return self.data_preprocessor(dict(inputs=views),
                                      False)['inputs'].to(inputs.dtype)

    def teacher_inputs(self, inputs: torch.Tensor, data_samples=None):
        """Both views, stacked: ``[2N, C, H, W]``."""
        return torch.cat([inputs, self.strong_view(inputs, data_samples)])

    def student_forward(self, inputs: torch.Tensor, data_samples=None
                        ) -> Tuple[Dict[str, torch.Tensor], dict]:
        """The student on each view: logits and losses of both."""
        strong = self.strong_view(inputs, data_samples)
        weak_out, losses = super().student_forward(inputs, data_samples)
        strong_out, strong_losses = super().student_forward(
            strong, data_samples)
        losses = dict(losses)
        losses.update({f'{k}_strong': v for k, v in strong_losses.items()})
        return dict(s_logits=weak_out['s_logits'],
                    s_logits_strong=strong_out['s_logits']), losses

    def forward_tensors(self, inputs: torch.Tensor, data_samples=None):
        """The base tensors, with the teacher's logits split by view."""
        tensors, losses = super().forward_tensors(inputs, data_samples)
        n = inputs.shape[0]
        t_logits = tensors['t_logits']
        tensors['t_logits'], tensors['t_logits_strong'] = t_logits[:n], \
            t_logits[n:]
        return tensors, losses
