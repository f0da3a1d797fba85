"""Lee et al., "Self-supervised Knowledge Distillation Using Singular Value
Decomposition", ECCV 2018."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


def _finite(x: torch.Tensor) -> torch.Tensor:
    """Replace NaN and inf by 0 (the reference code's ``removenan``)."""
    return torch.where(torch.isfinite(x), x, torch.zeros_like(x))


@DISTILL_LOSSES.register_module()
class KDSVDLoss(nn.Module):
    """KD-SVD: match the radial-basis similarities between the top singular
    vectors of two layers of the student and of the teacher.

    For one pair of layers ``(a, b)`` (``b`` after ``a``), following
    mdistiller's ``kdsvd_loss`` (itself RepDistiller's ``KDSVD``, from the
    authors' TensorFlow code) for that pair:

    1. Each feature map is reshaped to a matrix ``X`` (see ``mode``) and
       decomposed, ``X = U diag(s) V^T``. Non-finite entries of ``s`` and
       ``V`` are set to 0.
    2. The teacher keeps its top ``k`` right singular vectors, the student
       its top ``k + 3``; the kept singular values are L2-normalised
       (``s_hat``) and each kept vector is L2-normalised.
    3. Sign alignment: for each teacher vector ``v^T_j``, the student vector
       with the largest ``|cos|`` to it is taken and multiplied by the sign
       of that cosine (ties keep the sum of the tied vectors, as the
       reference's mask does).
    4. Both the teacher vectors and the aligned student vectors are scaled
       by the **teacher's** ``s_hat_j``.
    5. Element-wise radial basis between the two layers, for every entry
       ``p`` of a layer-``b`` vector, ``q`` of the layer-``a`` vector and
       every ``j < k``: ``R_{pqj} = exp(-(v^b_{pj} - v^a_{qj})^2 / 8)``.

    .. math::
        L = w \\cdot \\frac{1}{N} \\sum_{n,p,q,j}
            \\big(R^S_{n,pqj} - R^T_{n,pqj}\\big)^2

    with non-finite terms set to 0. mdistiller sums this over the adjacent
    pairs of its stage outputs; here each pair is one loss entry (the
    per-pair terms are independent, so the sum is the same).

    ``mode`` chooses the matrix ``X`` of a ``[N, C, H, W]`` map:

    - ``'mdistiller'`` (default; mdistiller's ``svd``, used by its
      ``configs/cifar100/kdsvd.yaml``): ``X`` is ``[C*H, W]``, so the
      singular vectors live in the **width** dimension; student and
      teacher widths ``W`` must agree at each layer, channels may differ.
    - ``'paper'`` (the paper, its TensorFlow code and RepDistiller): ``X``
      is ``[H*W, C]``, the singular vectors live in **channel** space;
      student and teacher channels must agree at each layer (RepDistiller
      assumes square maps; here ``H*W`` is used).

    The teacher's singular-vector signs are whatever the SVD routine
    returns (only the student is aligned to the teacher), so, as in the
    reference code, the value of ``R^T`` depends on the LAPACK sign
    convention. Half-precision inputs are decomposed in float32 and the
    loss is returned in float32 (SVD has no half kernel; mdistiller casts
    to float32 always, float64 stays float64 here).

    Setup (mdistiller ``KDSVD``: ``K = 1``, feature weight 1, CE weight 1):
    stage outputs ``backbone.layer1``, ``layer2``, ``layer3`` of both
    models, two entries: pairs ``(layer1, layer2)`` and ``(layer2,
    layer3)``. RepDistiller's scripts do not list a KDSVD weight.

    Args:
        k (int): Number of teacher singular vectors. Defaults to 1.
        mode (str): ``'mdistiller'`` or ``'paper'``, see above. Defaults to
            ``'mdistiller'``.
        loss_weight (float): Weight ``w``. Defaults to 1.0.

    Examples:
        >>> loss = KDSVDLoss(k=1)
        >>> s_a, s_b = torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8)
        >>> t_a, t_b = torch.randn(2, 32, 16, 16), torch.randn(2, 64, 8, 8)
        >>> loss(s_a, s_b, t_a, t_b).shape
        torch.Size([])
    """

    _modes = ('mdistiller', 'paper')
    #: Denominator of the radial basis (fixed in the reference code).
    rbf_scale = 8.

    def __init__(self,
                 k: int = 1,
                 mode: str = 'mdistiller',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not isinstance(k, int) or k < 1:
            raise ValueError(
                f'KDSVDLoss: k must be a positive int, got {k!r}.')
        if mode not in self._modes:
            raise ValueError(f'KDSVDLoss: mode must be one of {self._modes}, '
                             f'got {mode!r}.')
        self.k = k
        self.mode = mode
        self.loss_weight = loss_weight

    def _vector_dim(self, feats: torch.Tensor) -> int:
        return feats.shape[3] if self.mode == 'mdistiller' else feats.shape[1]

    def svd(self, feats: torch.Tensor,
            n: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Top-``n`` normalised singular values ``[N, n]`` and right singular
        vectors ``[N, D, n]`` of a ``[N, C, H, W]`` map."""
        b, c, h, w = feats.shape
        if self.mode == 'mdistiller':
            x = feats.reshape(b, c * h, w)
        else:
            x = feats.reshape(b, c, h * w).transpose(1, 2)
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        _, s, vh = torch.linalg.svd(x, full_matrices=False)
        s = F.normalize(_finite(s)[:, :n], dim=1)
        v = F.normalize(_finite(vh.transpose(1, 2))[:, :, :n], dim=1)
        return s, v

    @staticmethod
    def align(v_s: torch.Tensor, v_t: torch.Tensor) -> torch.Tensor:
        """Pick and sign-flip the student vectors that best match each
        teacher vector: ``[N, D, n_s]``, ``[N, D, k]`` -> ``[N, D, k]``."""
        cosine = v_s.transpose(1, 2) @ v_t
        abs_cos = cosine.abs()
        best = abs_cos.max(dim=1, keepdim=True).values
        mask = torch.where(abs_cos == best, torch.sign(cosine),
                           torch.zeros_like(cosine))
        return v_s @ mask

    def _layer(self, f_s: torch.Tensor,
               f_t: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        s_t, v_t = self.svd(f_t, self.k)
        _, v_s = self.svd(f_s, self.k + 3)
        v_s = self.align(v_s, v_t)
        scale = s_t.unsqueeze(1)
        return v_s * scale, v_t * scale

    def rbf(self, v_b: torch.Tensor, v_a: torch.Tensor) -> torch.Tensor:
        """``[N, D_b, k]``, ``[N, D_a, k]`` -> ``[N, D_b, D_a, k]``."""
        diff = v_b.unsqueeze(2) - v_a.unsqueeze(1)
        return torch.exp(-diff.pow(2) / self.rbf_scale)

    def forward(self, feats_S_a: torch.Tensor, feats_S_b: torch.Tensor,
                feats_T_a: torch.Tensor,
                feats_T_b: torch.Tensor) -> torch.Tensor:
        """Compute the loss for one pair of layers.

        Args:
            feats_S_a (Tensor): Student's earlier layer ``[N, C, H, W]``.
            feats_S_b (Tensor): Student's later layer.
            feats_T_a (Tensor): Teacher's earlier layer; no gradient flows
                into it.
            feats_T_b (Tensor): Teacher's later layer; no gradient flows
                into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        feats = dict(feats_S_a=feats_S_a, feats_S_b=feats_S_b,
                     feats_T_a=feats_T_a, feats_T_b=feats_T_b)
        for name, x in feats.items():
            if x.dim() != 4:
                raise ValueError(
                    f'KDSVDLoss: {name} must be a [N, C, H, W] feature map, '
                    f'got {tuple(x.shape)}; tap a convolutional stage (e.g. '
                    'backbone.layer2), not a pooled vector.')
        if len({x.shape[0] for x in feats.values()}) != 1:
            raise ValueError(
                'KDSVDLoss: the four features have different batch sizes '
                f'{[x.shape[0] for x in feats.values()]}; feed features of '
                'the same inputs.')
        what = 'width (W)' if self.mode == 'mdistiller' else 'channels (C)'
        for side in ('a', 'b'):
            d_s = self._vector_dim(feats[f'feats_S_{side}'])
            d_t = self._vector_dim(feats[f'feats_T_{side}'])
            if d_s != d_t:
                raise ValueError(
                    f"KDSVDLoss(mode={self.mode!r}): feats_S_{side} and "
                    f'feats_T_{side} differ in {what}: {d_s} vs {d_t}; the '
                    'singular vectors must have the same length, so tap '
                    'layers with equal ' + what + ' or use mode=' +
                    ("'paper' (equal channels)" if self.mode == 'mdistiller'
                     else "'mdistiller' (equal widths)") + '.')
        v_sa, v_ta = self._layer(feats_S_a, feats_T_a.detach())
        v_sb, v_tb = self._layer(feats_S_b, feats_T_b.detach())
        diff = (self.rbf(v_sb, v_sa) - self.rbf(v_tb, v_ta).detach()).pow(2)
        loss = _finite(diff).sum() / feats_S_a.shape[0]
        return self.loss_weight * loss
