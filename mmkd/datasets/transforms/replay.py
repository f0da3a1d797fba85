"""Replaying random transforms: draw a view once, reproduce it exactly.

Each class is mmpretrain's (or mmcv's) transform of the same name with one
addition, used by the teacher soft-label store
(:mod:`mmkd.datasets.teacher_store`, after FKD, Shen & Xing, ECCV 2022):

- when ``results['aug_params']`` is a dict, the parameters the transform
  draws are recorded there under the transform's ``step`` key;
- when ``results['replay']`` holds parameters under that key, nothing is
  drawn: the stored parameters are applied, so the view equals the one
  drawn when they were recorded, bit for bit.

Without either key they behave exactly like their parents (same draws from
numpy's global generator, same output). Parameters are tuples of ints, named
by the class's ``PARAMS``.
"""
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import RandomFlip
from mmpretrain.datasets.transforms import RandomCrop, RandomResizedCrop

from mmkd.registry import TRANSFORMS

__all__ = ['ReplayRandomCrop', 'ReplayRandomResizedCrop', 'ReplayRandomFlip']


def _stored(results: dict, step: str) -> Optional[tuple]:
    replay = results.get('replay')
    if replay is None:
        return None
    if step not in replay:
        raise KeyError(f'replay parameters hold steps {sorted(replay)}, not '
                       f'step {step!r}; rebuild the store for this pipeline.')
    return tuple(int(v) for v in replay[step])


def _record(results: dict, step: str, params: Tuple[int, ...]) -> None:
    if isinstance(results.get('aug_params'), dict):
        results['aug_params'][step] = tuple(int(v) for v in params)


def _box(params) -> np.ndarray:
    """mmcv's ``[x1, y1, x2, y2]`` box of ``(offset_h, offset_w, h, w)``."""
    offset_h, offset_w, target_h, target_w = params
    return np.array([offset_w, offset_h, offset_w + target_w - 1,
                     offset_h + target_h - 1])


@TRANSFORMS.register_module()
class ReplayRandomCrop(RandomCrop):
    """mmpretrain's ``RandomCrop`` (padding, then a random crop) that
    records or replays its crop box.

    Args:
        step (str): The key of this transform's parameters. Defaults to
            ``'crop'``.
        **kwargs: ``RandomCrop``'s arguments (``crop_size``, ``padding``,
            ``pad_if_needed``, ``pad_val``, ``padding_mode``).
    """

    PARAMS = ('offset_h', 'offset_w', 'target_h', 'target_w')

    def __init__(self, step: str = 'crop', **kwargs) -> None:
        super().__init__(**kwargs)
        self.step = step

    def transform(self, results: dict) -> dict:
        img = results['img']
        # the parent's padding steps, unchanged
        if self.padding is not None:
            img = mmcv.impad(img, padding=self.padding, pad_val=self.pad_val)
        if self.pad_if_needed:
            h_pad = -(-max(0, self.crop_size[0] - img.shape[0]) // 2)
            w_pad = -(-max(0, self.crop_size[1] - img.shape[1]) // 2)
            img = mmcv.impad(img, padding=(w_pad, h_pad, w_pad, h_pad),
                             pad_val=self.pad_val,
                             padding_mode=self.padding_mode)
        params = _stored(results, self.step)
        if params is None:
            params = self.rand_crop_params(img)
        _record(results, self.step, params)
        img = mmcv.imcrop(img, _box(params))
        results['img'] = img
        results['img_shape'] = img.shape
        return results


@TRANSFORMS.register_module()
class ReplayRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` that records or replays its crop
    box (the resize that follows is deterministic).

    Args:
        step (str): The key of this transform's parameters. Defaults to
            ``'resized_crop'``.
        **kwargs: ``RandomResizedCrop``'s arguments (``scale``,
            ``crop_ratio_range``, ``aspect_ratio_range``, ...).
    """

    PARAMS = ('offset_h', 'offset_w', 'target_h', 'target_w')

    def __init__(self, step: str = 'resized_crop', **kwargs) -> None:
        super().__init__(**kwargs)
        self.step = step

    def transform(self, results: dict) -> dict:
        img = results['img']
        params = _stored(results, self.step)
        if params is None:
            params = self.rand_crop_params(img)
        _record(results, self.step, params)
        img = mmcv.imcrop(img, bboxes=_box(params))
        img = mmcv.imresize(img, tuple(self.scale[::-1]),
                            interpolation=self.interpolation,
                            backend=self.backend)
        results['img'] = img
        results['img_shape'] = img.shape
        return results


@TRANSFORMS.register_module()
class ReplayRandomFlip(RandomFlip):
    """mmcv's ``RandomFlip`` that records or replays its choice.

    The parameter ``direction`` is 0 for no flip and ``1 + j`` for the
    ``j``-th configured direction (``direction='horizontal'``: 1).

    Args:
        step (str): The key of this transform's parameters. Defaults to
            ``'flip'``.
        **kwargs: ``RandomFlip``'s arguments (``prob``, ``direction``).
    """

    PARAMS = ('direction', )

    def __init__(self, step: str = 'flip', **kwargs) -> None:
        super().__init__(**kwargs)
        self.step = step
        self._directions = ([self.direction] if isinstance(
            self.direction, str) else list(self.direction))

    def transform(self, results: dict) -> dict:
        params = _stored(results, self.step)
        if params is None:
            cur_dir = self._choose_direction()
            code = 0 if cur_dir is None else 1 + self._directions.index(
                cur_dir)
        else:
            code = params[0]
            if not 0 <= code <= len(self._directions):
                raise ValueError(
                    f'stored flip code {code} is not one of 0..'
                    f'{len(self._directions)} for directions '
                    f'{self._directions}; rebuild the store.')
            cur_dir = None if code == 0 else self._directions[code - 1]
        _record(results, self.step, (code, ))
        results['flip'] = cur_dir is not None
        results['flip_direction'] = cur_dir
        if cur_dir is not None:
            self._flip(results)
        return results
