"""What every proxy shares: the interface and access to a classifier's parts.

A proxy scores a candidate student (a built mmpretrain ``ImageClassifier``)
on one labelled batch; **higher is better** for every proxy (distances are
negated). Proxies that compare with a teacher get the teacher once per
search in :meth:`BaseProxy.prepare` and cache what does not depend on the
candidate.
"""
import abc
import copy
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

INITS = (None, 'normal')


def gaussian_init_(model: nn.Module) -> nn.Module:
    """DisWOT's random init: conv/linear weights ~ N(0, 1), biases 0, norm
    weights 1 and biases 0 (methods.md 1.1, step 1)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 1.0)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
            if m.weight is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    return model


def apply_init(model: nn.Module, init: Optional[str]) -> nn.Module:
    """Re-initialise ``model`` in place: ``'normal'`` or None (keep)."""
    if init not in INITS:
        raise ValueError(f'init={init!r} is not a known re-initialisation; '
                         f'use one of {INITS}.')
    if init == 'normal':
        gaussian_init_(model)
    return model


def classifier_fc(model: nn.Module, field: str) -> nn.Linear:
    """The final linear classifier ``model.head.fc`` (mmpretrain's
    ``LinearClsHead``), with a clear error when there is none."""
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if not isinstance(fc, nn.Linear):
        raise TypeError(
            f'{field}: the proxy needs a final linear classifier at '
            f'`head.fc` (e.g. LinearClsHead); {type(model).__name__} has '
            f'{type(fc).__name__ if fc is not None else "none"}.')
    return fc


def forward_parts(model: nn.Module, inputs: torch.Tensor,
                  feat_index: int = -1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run an ``ImageClassifier`` and return ``(feature, logits)``.

    ``feature`` is ``backbone(inputs)[feat_index]``; with the default -1
    and a backbone returning its last stage, that is the map before global
    pooling (``A`` in DisWOT, shape ``[N, C, H, W]``).
    """
    feats = model.backbone(inputs)
    if isinstance(feats, torch.Tensor):
        feats = (feats, )
    try:
        feat = feats[feat_index]
    except IndexError:
        raise IndexError(
            f'feat_index={feat_index} is out of range: the backbone returns '
            f'{len(feats)} feature(s); set its out_indices or pick another '
            'index.') from None
    neck_out = model.neck(feats) if getattr(model, 'with_neck',
                                            False) else feats
    logits = model.head(neck_out)
    return feat, logits


class BaseProxy(abc.ABC):
    """A zero-cost proxy: ``score(model, inputs, labels) -> float``.

    Attributes:
        needs_teacher (bool): Whether :meth:`prepare` must be called with
            the teacher before scoring.
        min_batch (int): The smallest batch the proxy is defined on.
    """

    needs_teacher = False
    min_batch = 1

    def prepare(self, teacher: nn.Module, inputs: torch.Tensor,
                labels: torch.Tensor, teacher_pretrained: bool = False
                ) -> None:
        """Compute and cache the teacher's quantities (once per search)."""

    def check_batch(self, inputs: torch.Tensor) -> None:
        if inputs.shape[0] < self.min_batch:
            raise ValueError(
                f'{type(self).__name__} needs a batch of at least '
                f'{self.min_batch} samples, got {inputs.shape[0]}; raise '
                'the search data batch_size.')

    @abc.abstractmethod
    def score(self, model: nn.Module, inputs: torch.Tensor,
              labels: torch.Tensor) -> float:
        """The candidate's score on one batch; higher is better. It may
        change ``model`` (re-initialise it, update BN statistics): call the
        proxy (or :meth:`evaluate`), which scores a copy."""

    def score_parts(self, model: nn.Module, inputs: torch.Tensor,
                    labels: torch.Tensor) -> Tuple[float, Dict[str, float]]:
        """``(score, parts)``: the score and the named terms it is made of,
        each higher-is-better like the score (a search records them as
        ``'<key>.<part>'``). Proxies with no parts return ``{}``."""
        return self.score(model, inputs, labels), {}

    def evaluate(self, model: nn.Module, inputs: torch.Tensor,
                 labels: torch.Tensor, copy_model: bool = True
                 ) -> Tuple[float, Dict[str, float]]:
        """Check the batch and return :meth:`score_parts` of a copy of
        ``model``, so the caller's weights, BN statistics and train/eval
        mode are left as they were. ``copy_model=False`` scores ``model``
        itself (the search does, on a candidate it built for the purpose).
        """
        self.check_batch(inputs)
        if copy_model:
            model = copy.deepcopy(model)
        score, parts = self.score_parts(model, inputs, labels)
        return float(score), {k: float(v) for k, v in parts.items()}

    def __call__(self, model, inputs, labels) -> float:
        """The score of a copy of ``model`` (see :meth:`evaluate`)."""
        return self.evaluate(model, inputs, labels)[0]


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy whose use leaves ``model``'s buffers (BN stats) intact."""
    model = copy.deepcopy(model)
    model.requires_grad_(True)
    return model


def weight_layers(model: nn.Module) -> Dict[str, nn.Module]:
    """Conv and linear layers: the "prunable" layers of zero-cost NAS."""
    return {
        n: m
        for n, m in model.named_modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    }
