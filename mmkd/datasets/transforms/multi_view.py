"""Different views of one image: for the teacher and the student (CAKD),
or a second view for both (MLKD)."""
import copy
from typing import List, Optional

from mmcv.transforms import BaseTransform, Compose
from mmpretrain.datasets.transforms import PackInputs

from mmkd.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CAKDMultiView(BaseTransform):
    """CAKD's multi-view generator: two pipelines on copies of one sample.

    The student's pipeline gives the sample (``img`` and every other key);
    the teacher's pipeline runs on a copy and only its image is kept, as
    ``t_img`` (a ``[C, H, W]`` tensor, formatted as ``PackInputs`` formats
    ``img``). Put ``PackInputs(algorithm_keys=['t_img'])`` after this
    transform: ``CAKDDistiller`` then feeds ``t_img`` to the teacher,
    through the same data preprocessor. Both views must end at the same
    size. Batch augmentation of the data preprocessor (e.g. Mixup) applies
    to the student's view only.

    Liu et al. (ACCV 2022) perturb the student's input (random crops,
    strong augmentation, random erasing, mixup) to make the distillation
    robust; the teacher sees a milder view.

    Args:
        student_pipeline (list[dict]): Transforms of the student's view,
            e.g. ``RandomResizedCrop``, ``RandAugment``, ``RandomErasing``.
        teacher_pipeline (list[dict], optional): Transforms of the
            teacher's view. Defaults to None (the image unchanged).

    Examples:
        >>> import numpy as np
        >>> t = CAKDMultiView(
        ...     student_pipeline=[dict(type='RandomFlip', prob=1.0)],
        ...     teacher_pipeline=[])
        >>> out = t(dict(img=np.zeros((32, 32, 3), np.uint8)))
        >>> out['t_img'].shape
        torch.Size([3, 32, 32])
    """

    def __init__(self,
                 student_pipeline: List[dict],
                 teacher_pipeline: Optional[List[dict]] = None) -> None:
        self.student_pipeline = Compose(student_pipeline)
        self.teacher_pipeline = Compose(teacher_pipeline or [])

    def transform(self, results: dict) -> Optional[dict]:
        teacher = self.teacher_pipeline(copy.deepcopy(results))
        student = self.student_pipeline(results)
        if teacher is None or student is None:
            return None
        if teacher['img'].shape[:2] != student['img'].shape[:2]:
            raise ValueError(
                'CAKDMultiView: the teacher view is '
                f"{teacher['img'].shape[:2]} but the student view "
                f"{student['img'].shape[:2]}; end both pipelines at the "
                'same size (e.g. with the same crop size).')
        student['t_img'] = PackInputs.format_input(teacher['img'])
        return student

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(student_pipeline='
                f'{self.student_pipeline}, teacher_pipeline='
                f'{self.teacher_pipeline})')


@TRANSFORMS.register_module()
class ExtraView(BaseTransform):
    """A second view of the sample under ``key``, from its own pipeline.

    The pipeline runs on a copy of the sample; its image, formatted as
    ``PackInputs`` formats ``img``, is stored as ``key``; the sample itself
    goes on unchanged to the next transforms (its own view). Put
    ``PackInputs(algorithm_keys=[key])`` at the end. MLKD's strong view::

        dict(type='ExtraView', key='img_strong', pipeline=[
            dict(type='RandomCrop', crop_size=32, padding=4),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandAugment', policies='timm_increasing',
                 num_policies=2, total_level=10, magnitude_level=10,
                 magnitude_std='inf')])

    Args:
        pipeline (list[dict]): Transforms of the extra view.
        key (str): Where the view is stored. Defaults to ``'img_strong'``.

    Examples:
        >>> import numpy as np
        >>> t = ExtraView([dict(type='RandomFlip', prob=1.0)])
        >>> out = t(dict(img=np.zeros((32, 32, 3), np.uint8)))
        >>> out['img_strong'].shape
        torch.Size([3, 32, 32])
    """

    def __init__(self, pipeline: List[dict], key: str = 'img_strong') -> None:
        self.pipeline = Compose(pipeline)
        self.key = key

    def transform(self, results: dict) -> Optional[dict]:
        view = self.pipeline(copy.deepcopy(results))
        if view is None:
            return None
        results[self.key] = PackInputs.format_input(view['img'])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(pipeline={self.pipeline}, '
                f'key={self.key!r})')
