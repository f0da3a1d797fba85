"""KD from a teacher soft-label store: the teacher's logits are read, not
computed (FKD: Shen & Xing, "A Fast Knowledge Distillation Framework for
Visual Recognition", ECCV 2022).

:class:`StoreTeacher` is a teacher side (``t_logits``) that takes the
logits ``TeacherStoreDataset`` attached to each data sample;
:class:`StoreTeacherDistiller` is ``SingleTeacherDistiller`` with that side.
A config switches from online KD to the store with::

    model = dict(type='StoreTeacherDistiller', teacher_store=STORE)
    train_dataloader = dict(
        dataset=dict(_delete_=True, type='TeacherStoreDataset',
                     store=STORE, dataset={{_base_.train_dataloader.dataset}}),
        sampler=dict(type='TeacherStoreSampler'))

after building the store with ``tools/build_teacher_store.py``.
"""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from mmkd.datasets.teacher_store import TeacherStore
from mmkd.utils.fingerprint import as_json, file_sha256
from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .teachers import TeacherSide

__all__ = ['StoreTeacher', 'StoreTeacherDistiller', 'store_logits']

# smallest and largest rest mass used in the reconstruction, so that its
# logits stay finite (KDLoss's p * log p needs finite logits)
_MASS_RANGE = (1e-30, 1 - 1e-6)


def store_logits(values: torch.Tensor, indices: torch.Tensor,
                 rest_mass: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Logits ``[N, C]`` rebuilt from a top-k store.

    The ``k`` stored logits ``z_i`` keep their classes; each of the other
    ``C - k`` classes gets one logit ``r``, chosen so that at temperature 1
    the rebuilt softmax gives every top-k class its teacher probability and
    the other classes together the stored mass ``m`` (spread uniformly)::

        r = log(m / (1 - m)) + logsumexp(z) - log(C - k)

    At temperature ``T`` the top-k classes keep their relative weights
    ``exp(z_i / T)`` and the rest is ``(C - k) exp(r / T)``: for ``T != 1``
    this approximates the teacher's softened distribution (the rest's
    spread is lost), exactly as far as the top-k are concerned.

    Args:
        values (Tensor): ``[N, k]`` top-k logits.
        indices (Tensor): ``[N, k]`` their classes.
        rest_mass (Tensor): ``[N]`` softmax mass of the other classes.
        num_classes (int): ``C``.

    Returns:
        Tensor: float32 logits ``[N, C]``.
    """
    values = values.float()
    k = values.shape[1]
    if k == num_classes:
        return values.new_zeros(values.shape[0], num_classes).scatter(
            1, indices.long(), values)
    m = rest_mass.float().clamp(*_MASS_RANGE)
    rest = (m.log() - torch.log1p(-m) + values.logsumexp(1) -
            math.log(num_classes - k))
    full = rest[:, None].expand(-1, num_classes).contiguous()
    return full.scatter(1, indices.long(), values)


class StoreTeacher(TeacherSide):
    """A teacher side that reads the teacher's logits from a store.

    It owns no module: the store's ``TeacherStoreDataset`` attaches the
    logits to each data sample, and :meth:`forward` stacks them (rebuilding
    full logits from a top-k store with :func:`store_logits`). It refuses a
    store built with another teacher config or checkpoint.

    Args:
        store (str): The store directory.
        model (dict | str): The teacher config the store must have been
            built with (``model.teacher``); it is not built.
        ckpt (str, optional): The teacher checkpoint the store must have
            been built with (compared by sha256).
    """

    def __init__(self, store: str, model: Union[dict, str],
                 ckpt: Optional[str] = None) -> None:
        super().__init__(trainable=False, keep_eval=True)
        self.store = TeacherStore(store)
        built = self.store.manifest['teacher']
        if built.get('model') != as_json(model):
            raise ValueError(
                f'model.teacher is not the teacher the store {store} was '
                f"built with ({built.get('model')!r}); rebuild the store "
                'with tools/build_teacher_store.py for this config.')
        sha = file_sha256(ckpt)
        if sha != built.get('ckpt_sha256'):
            raise ValueError(
                f'model.teacher_ckpt={ckpt!r} (sha256 {str(sha)[:12]}) is '
                f"not the checkpoint the store {store} was built with "
                f"({built.get('ckpt')!r}, sha256 "
                f"{str(built.get('ckpt_sha256'))[:12]}); rebuild the store.")
        self.num_classes = self.store.num_classes
        self.topk = self.store.topk

    def modules(self) -> Dict[str, nn.Module]:
        return {}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {}

    def output_names(self) -> List[str]:
        return ['t_logits']

    def _stacked(self, data_samples, key: str) -> torch.Tensor:
        try:
            return torch.stack([ds.metainfo[key] for ds in data_samples])
        except KeyError:
            raise KeyError(
                f'the batch carries no stored {key}; set '
                "train_dataloader.dataset=dict(type='TeacherStoreDataset', "
                'store=..., dataset=...) to train from the store.') from None

    def forward(self, inputs, data_samples=None):
        n = inputs.shape[0]
        if data_samples is None:  # the build-time dry run
            return dict(t_logits=inputs.new_zeros(n, self.num_classes))
        if self.topk is None:
            logits = self._stacked(data_samples, 'teacher_logits').float()
        else:
            logits = store_logits(
                self._stacked(data_samples, 'teacher_topk_values'),
                self._stacked(data_samples, 'teacher_topk_indices'),
                self._stacked(data_samples, 'teacher_rest_mass'),
                self.num_classes)
        return dict(t_logits=logits.to(inputs.device))


@MODELS.register_module()
class StoreTeacherDistiller(BaseDistiller):
    """``SingleTeacherDistiller`` whose teacher logits come from a store.

    Same losses, inputs and checks; ``t_logits`` are the stored teacher's
    (fp16, or rebuilt from the top-k, see :func:`store_logits`) on the view
    the batch replays. The teacher is not built; ``teacher`` and
    ``teacher_ckpt`` stay in the config to check the store against. The
    store holds logits only: a tap on the teacher is refused at build time.

    Args:
        student (dict | str | nn.Module): Student classifier.
        teacher (dict | str): The teacher config (checked, not built).
        teacher_store (str): The store directory.
        teacher_ckpt (str, optional): The teacher checkpoint (checked by
            sha256, not loaded).
        **kwargs: ``student_ckpt``, ``student_loss_weight``, ``taps``,
            ``connectors``, ``distill_losses``, ``check_input_shape``,
            ``data_preprocessor``, as for ``SingleTeacherDistiller``.
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str],
                 teacher_store: str,
                 teacher_ckpt: Optional[str] = None,
                 taps: Optional[Dict[str, str]] = None,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 **kwargs) -> None:
        for name, path in (taps or {}).items():
            if str(path).split('.')[0].split(':')[0] == 'teacher':
                raise ValueError(
                    f'taps.{name}={path!r} reads the teacher, but a teacher '
                    'store holds its logits only; use SingleTeacherDistiller '
                    '(online KD) for losses on teacher features.')
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=StoreTeacher(teacher_store, teacher, teacher_ckpt),
            taps=taps,
            check_input_shape=check_input_shape,
            **kwargs)
