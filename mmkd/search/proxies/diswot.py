"""DisWOT proxies: semantic (M_s) and relation (M_r) similarity.

Dong et al., "DisWOT: Student Architecture Search for Distillation WithOut
Training", CVPR 2023. See ``methods.md`` section 1 of the reference.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.models.losses.utils import batch_similarity
from mmkd.registry import PROXIES
from .base import (BaseProxy, apply_init, classifier_fc, forward_parts,
                   frozen_copy)

CHANNEL_MISMATCH = ('error', 'adaptive_avg_pool')


def semantic_matrices(g: torch.Tensor) -> torch.Tensor:
    """Per-class channel outer products ``E_k = g_k g_k^T``, rows L2-normed.

    Args:
        g (Tensor): The fc weight gradient (or weight), ``[K, C]``.

    Returns:
        Tensor: ``[K, C, C]``.
    """
    e = g.unsqueeze(2) * g.unsqueeze(1)
    return F.normalize(e, dim=2)


def semantic_distance(e_s: torch.Tensor, e_t: torch.Tensor) -> torch.Tensor:
    """``M_s = sum_k ||E_k^S - E_k^T||_F^2 / (C * K)``."""
    k, c = e_s.shape[0], e_s.shape[1]
    return (e_s - e_t).pow(2).sum() / (c * k)


def relation_matrix(feat: torch.Tensor) -> torch.Tensor:
    """``G = A A^T`` of the flattened ``[N, C*H*W]`` map, rows L2-normed."""
    return batch_similarity(feat)


def relation_distance(g_s: torch.Tensor, g_t: torch.Tensor) -> torch.Tensor:
    """``M_r = ||G^T - G^S||_F^2 / N^2``."""
    n = g_s.shape[0]
    return (g_s - g_t).pow(2).sum() / (n * n)


def pool_channels(g: torch.Tensor, channels: int) -> torch.Tensor:
    """Average-pool the channel axis of ``[K, C]`` to ``[K, channels]``."""
    return F.adaptive_avg_pool1d(g.unsqueeze(1), channels).squeeze(1)


@PROXIES.register_module()
class DisWOT(BaseProxy):
    """DisWOT score ``-(M_s + M_r)`` between a candidate and the teacher.

    Both networks are randomly re-initialised (``init='normal'``: N(0, 1)
    conv/linear weights, zero biases, BN 1/0) and run in train mode (batch
    statistics) on one labelled batch ``(x, y)``:

    - **M_s** (semantic, the authors' code form): ``g = dCE/dW_fc``
      (``[K, C]``; the fc weight itself with ``use_grad=False``), per class
      ``E_k = g_k g_k^T`` with rows L2-normalised, and
      ``M_s = sum_k ||E_k^S - E_k^T||_F^2 / (C K)``.
    - **M_r** (relation, as similarity-preserving KD): the map ``A =
      backbone(x)[feat_index]`` flattened to ``[N, C H W]``, ``G = A A^T``
      with rows L2-normalised, ``M_r = ||G^T - G^S||_F^2 / N^2``.

    The teacher's ``E^T`` and ``G^T`` do not depend on the candidate: they
    are computed once in :meth:`prepare` (with ``autograd.grad``, so no
    gradient accumulates across candidates) and reused.

    M_s needs equal channel counts ``C_T == C_S`` (and class counts). With
    ``channel_mismatch='adaptive_avg_pool'`` both gradients are instead
    average-pooled along the channel axis to ``min(C_T, C_S)`` channels
    (``F.adaptive_avg_pool1d``) before the outer products; that projection
    is mmkd's, not the paper's.

    Args:
        semantic (bool): Include M_s. Defaults to True.
        relation (bool): Include M_r. Defaults to True.
        feat_index (int): Backbone output used for M_r. Defaults to -1.
        use_grad (bool): M_s from the fc weight gradient (True, the
            authors' code form; the paper writes it with CAMs) or the fc
            weight (False). Defaults to True.
        init (str, optional): ``'normal'`` re-initialises the candidate (and
            a teacher without checkpoint) before scoring; None keeps the
            built model's init. Defaults to ``'normal'``.
        channel_mismatch (str): ``'error'`` or ``'adaptive_avg_pool'``.

    Examples:
        >>> proxy = PROXIES.build(dict(type='DisWOT'))
        >>> proxy.prepare(teacher, x, y)
        >>> proxy(student, x, y)   # higher is better
    """

    needs_teacher = True
    min_batch = 2

    def __init__(self,
                 semantic: bool = True,
                 relation: bool = True,
                 feat_index: int = -1,
                 use_grad: bool = True,
                 init: Optional[str] = 'normal',
                 channel_mismatch: str = 'error') -> None:
        if not (semantic or relation):
            raise ValueError('DisWOT: enable semantic, relation or both.')
        if channel_mismatch not in CHANNEL_MISMATCH:
            raise ValueError(f'DisWOT: channel_mismatch={channel_mismatch!r};'
                             f' use one of {CHANNEL_MISMATCH}.')
        apply_init(nn.Identity(), init)  # validates the name
        self.semantic = semantic
        self.relation = relation
        self.feat_index = feat_index
        self.use_grad = use_grad
        self.init = init
        self.channel_mismatch = channel_mismatch
        self._t_grad: Optional[torch.Tensor] = None
        self._t_sem: Dict[int, torch.Tensor] = {}
        self._t_rel: Optional[torch.Tensor] = None
        self.teacher_passes = 0  # teacher forward passes (for tests)

    def _quantities(self, model: nn.Module, inputs, labels, field: str):
        """(fc gradient [K, C] or None, relation matrix [N, N] or None)."""
        fc = classifier_fc(model, field) if self.semantic else None
        model.train()
        # only dL/dW_fc is needed: the backbone runs without an autograd
        # graph (the same numbers, less time and memory)
        needs_grad = {p: p.requires_grad for p in model.parameters()}
        for p in needs_grad:
            p.requires_grad_(self.semantic and self.use_grad
                             and p is fc.weight)
        try:
            with torch.enable_grad():
                feat, logits = forward_parts(model, inputs, self.feat_index)
                g = None
                if self.semantic:
                    if self.use_grad:
                        loss = F.cross_entropy(logits, labels)
                        g = torch.autograd.grad(loss, fc.weight)[0]
                    else:
                        g = fc.weight
                    g = g.detach()
        finally:
            for p, flag in needs_grad.items():
                p.requires_grad_(flag)
        rel = relation_matrix(feat.detach()) if self.relation else None
        return g, rel

    def prepare(self, teacher, inputs, labels, teacher_pretrained=False):
        self.check_batch(inputs)
        teacher = frozen_copy(teacher)
        if not teacher_pretrained:
            apply_init(teacher, self.init)
        self._t_grad, self._t_rel = self._quantities(teacher, inputs, labels,
                                                     'teacher')
        self._t_sem = {}
        self.teacher_passes += 1

    def _teacher_semantic(self, channels: int) -> torch.Tensor:
        if channels not in self._t_sem:
            g = self._t_grad
            if g.shape[1] != channels:
                g = pool_channels(g, channels)
            self._t_sem[channels] = semantic_matrices(g)
        return self._t_sem[channels]

    def distances(self, model, inputs, labels) -> Dict[str, float]:
        """``{'M_s': ..., 'M_r': ...}`` for the enabled parts."""
        if self._t_grad is None and self._t_rel is None:
            raise RuntimeError(f'{type(self).__name__}: call prepare(teacher,'
                               ' inputs, labels) once before scoring.')
        if self.semantic:
            k_t, c_t = self._t_grad.shape
            k_s, c_s = classifier_fc(model, 'candidate').weight.shape
            if k_t != k_s:
                raise ValueError(
                    f'M_s compares per-class channel maps: the teacher has '
                    f'{k_t} classes and the candidate {k_s}; give both the '
                    'same num_classes.')
            if c_t != c_s and self.channel_mismatch == 'error':
                raise ValueError(
                    f'M_s needs equal channel counts before the classifier, '
                    f'got teacher C_T={c_t} and candidate C_S={c_s}; use the '
                    'M_r-only proxy (DisWOTMr) or set '
                    "channel_mismatch='adaptive_avg_pool'.")
        apply_init(model, self.init)
        g_s, rel_s = self._quantities(model, inputs, labels, 'candidate')
        out = {}
        if self.semantic:
            c = min(c_t, c_s)
            if c_s != c:
                g_s = pool_channels(g_s, c)
            out['M_s'] = float(
                semantic_distance(semantic_matrices(g_s),
                                  self._teacher_semantic(c)))
        if self.relation:
            if rel_s.shape != self._t_rel.shape:
                raise ValueError('M_r: the candidate saw a different batch '
                                 'size than the teacher.')
            out['M_r'] = float(relation_distance(rel_s, self._t_rel))
        return out

    def score_parts(self, model, inputs, labels):
        """``(-(M_s + M_r), {'M_s': -M_s, 'M_r': -M_r})``: the parts are
        negated distances, higher is better like every score."""
        parts = {k: -v for k, v in
                 self.distances(model, inputs, labels).items()}
        return sum(parts.values()), parts

    def score(self, model, inputs, labels) -> float:
        return self.score_parts(model, inputs, labels)[0]


@PROXIES.register_module()
class DisWOTMs(DisWOT):
    """DisWOT's semantic part alone: score ``-M_s`` (see :class:`DisWOT`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(semantic=True, relation=False, **kwargs)


@PROXIES.register_module()
class DisWOTMr(DisWOT):
    """DisWOT's relation part alone: score ``-M_r`` (see :class:`DisWOT`).

    The authors' ImageNet search used it, since C_T != C_S there.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(semantic=False, relation=True, **kwargs)
