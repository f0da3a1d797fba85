"""An example plugin proxy: linear CKA between teacher and candidate."""
from typing import Optional

import torch
import torch.nn as nn

from mmkd.registry import PROXIES
from mmkd.search.proxies.base import (BaseProxy, apply_init, forward_parts,
                                      frozen_copy)


def centered_gram(feat: torch.Tensor) -> torch.Tensor:
    """``H A A^T H`` of the flattened ``[N, D]`` feature, in float64.

    ``H = I - 11^T / N`` centres the features over the batch.
    """
    a = feat.detach().reshape(feat.shape[0], -1).double()
    a = a - a.mean(dim=0, keepdim=True)
    return a @ a.t()


def linear_cka(k_a: torch.Tensor, k_b: torch.Tensor) -> torch.Tensor:
    """``<K_a, K_b>_F / (||K_a||_F ||K_b||_F)`` of two centred Grams."""
    return (k_a * k_b).sum() / (k_a.norm() * k_b.norm())


@PROXIES.register_module()
class LinearCKA(BaseProxy):
    """Linear CKA between the teacher's and the candidate's feature maps.

    On one batch, both networks in train mode, ``A`` the map before global
    pooling (``backbone(x)[feat_index]``) flattened to ``[N, D]``:

    .. math::
        K = H A A^\\top H, \\quad H = I - \\tfrac{1}{N} 1 1^\\top, \\qquad
        \\mathrm{score} = \\frac{\\langle K_S, K_T \\rangle_F}
                              {\\|K_S\\|_F \\, \\|K_T\\|_F}

    in ``[0, 1]``, higher is more similar. ``D`` may differ between teacher
    and candidate (only the batch must agree), so it works for spaces whose
    last width varies, where DisWOT's M_s would need equal channels.
    Kornblith et al., "Similarity of Neural Network Representations
    Revisited", ICML 2019.

    Args:
        feat_index (int): Backbone output used as ``A``. Defaults to -1.
        init (str, optional): ``'normal'`` re-initialises the candidate
            (and a teacher without checkpoint) with N(0, 1) weights, as
            DisWOT does; None keeps the built model's init. Defaults to
            ``'normal'``.
    """

    needs_teacher = True
    min_batch = 2

    def __init__(self, feat_index: int = -1,
                 init: Optional[str] = 'normal') -> None:
        apply_init(nn.Identity(), init)  # validates the name
        self.feat_index = feat_index
        self.init = init
        self._t_gram: Optional[torch.Tensor] = None

    def _gram(self, model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        model.train()
        with torch.no_grad():
            feat, _ = forward_parts(model, inputs, self.feat_index)
        return centered_gram(feat)

    def prepare(self, teacher, inputs, labels, teacher_pretrained=False):
        self.check_batch(inputs)
        teacher = frozen_copy(teacher)  # keeps the teacher's BN statistics
        if not teacher_pretrained:
            apply_init(teacher, self.init)
        self._t_gram = self._gram(teacher, inputs)

    def score(self, model, inputs, labels) -> float:
        if self._t_gram is None:
            raise RuntimeError('LinearCKA: call prepare(teacher, inputs, '
                               'labels) once before scoring.')
        if inputs.shape[0] != self._t_gram.shape[0]:
            raise ValueError(
                f'LinearCKA: the candidate got a batch of {inputs.shape[0]} '
                f'samples but the teacher {self._t_gram.shape[0]}; score '
                'both on the same batch.')
        apply_init(model, self.init)
        return float(linear_cka(self._gram(model, inputs), self._t_gram))
