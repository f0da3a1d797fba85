"""Yim et al., "A Gift from Knowledge Distillation: Fast Optimization,
Network Minimization and Transfer Learning", CVPR 2017."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class FSPLoss(nn.Module):
    """Flow of solution procedure: match the Gram matrices between two
    layers of the student and the same two layers of the teacher.

    For two feature maps ``F_a`` (``[N, C_a, h, w]``) and ``F_b``
    (``[N, C_b, h, w]``) of one model, the FSP matrix is

    .. math::
        G_{ij} = \\frac{1}{h w} \\sum_{s=1}^{h} \\sum_{t=1}^{w}
                 F_{a; s,t,i} \\, F_{b; s,t,j},
        \\qquad G \\in \\mathbb{R}^{C_a \\times C_b}

    and

    .. math::
        L = w \\cdot \\frac{1}{N C_a C_b} \\sum_{n,i,j}
            \\big(G^S_{n,ij} - G^T_{n,ij}\\big)^2

    The mean over batch and matrix entries is RepDistiller's reduction;
    the paper writes a sum over entries (a squared L2 norm) averaged over
    samples, which differs by the constant ``C_a C_b``. When ``F_a`` and
    ``F_b`` of one model have different spatial sizes, the larger one is
    adaptive-average-pooled to the smaller, as RepDistiller does (it assumes
    square maps; here height and width are handled separately). The paper
    pairs layers of equal size. Student and teacher must have the same
    channel counts at both layers (RepDistiller raises the same error);
    their spatial sizes may differ.

    RepDistiller setup: the pairs of consecutive outputs
    ``(stem, layer1)``, ``(layer1, layer2)``, ``(layer2, layer3)`` (its
    ``feat[:-1]``), one ``FSPLoss`` entry per pair. Its ``-b 50`` run uses
    FSP only in a 30-epoch **initialisation stage** (student feature layers
    trained with the sum of the pair losses, weight 1), then trains with
    cross-entropy alone: its stage-2 FSP term is 0, so the 50 never
    multiplies the loss. The weight 50 is therefore the nominal RepDistiller
    value for a one-stage config; the paper's schedule is the two-stage one
    (configured as a pipeline, not by this loss).

    Args:
        loss_weight (float): Weight ``w``. Defaults to 1.0 (see above for
            RepDistiller's 1 in the init stage and its nominal 50).

    Examples:
        >>> loss = FSPLoss(loss_weight=50)
        >>> s_a, s_b = torch.randn(2, 16, 16, 16), torch.randn(2, 32, 8, 8)
        >>> t_a, t_b = torch.randn(2, 16, 16, 16), torch.randn(2, 32, 8, 8)
        >>> loss(s_a, s_b, t_a, t_b).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def fsp_matrix(feats_a: torch.Tensor,
                   feats_b: torch.Tensor) -> torch.Tensor:
        """``[N, C_a, H, W]``, ``[N, C_b, H', W']`` -> ``[N, C_a, C_b]``."""
        size = (min(feats_a.shape[2], feats_b.shape[2]),
                min(feats_a.shape[3], feats_b.shape[3]))
        if tuple(feats_a.shape[2:]) != size:
            feats_a = F.adaptive_avg_pool2d(feats_a, size)
        if tuple(feats_b.shape[2:]) != size:
            feats_b = F.adaptive_avg_pool2d(feats_b, size)
        a, b = feats_a.flatten(2), feats_b.flatten(2)
        return a @ b.transpose(1, 2) / a.shape[2]

    def forward(self, feats_S_a: torch.Tensor, feats_S_b: torch.Tensor,
                feats_T_a: torch.Tensor,
                feats_T_b: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats_S_a (Tensor): Student's first (earlier) layer
                ``[N, C_a, H, W]``.
            feats_S_b (Tensor): Student's second layer ``[N, C_b, H', W']``.
            feats_T_a (Tensor): Teacher's first layer, ``C_a`` channels; no
                gradient flows into it.
            feats_T_b (Tensor): Teacher's second layer, ``C_b`` channels; no
                gradient flows into it.

        Returns:
            Tensor: The weighted scalar loss.
        """
        feats = dict(feats_S_a=feats_S_a, feats_S_b=feats_S_b,
                     feats_T_a=feats_T_a, feats_T_b=feats_T_b)
        for name, x in feats.items():
            if x.dim() != 4:
                raise ValueError(
                    f'FSPLoss: {name} must be a [N, C, H, W] feature map, got '
                    f'{tuple(x.shape)}; tap a convolutional stage (e.g. '
                    'backbone.layer2), not a pooled vector.')
        if len({x.shape[0] for x in feats.values()}) != 1:
            raise ValueError(
                'FSPLoss: the four features have different batch sizes '
                f'{[x.shape[0] for x in feats.values()]}; feed features of '
                'the same inputs.')
        for side in ('a', 'b'):
            c_s = feats[f'feats_S_{side}'].shape[1]
            c_t = feats[f'feats_T_{side}'].shape[1]
            if c_s != c_t:
                raise ValueError(
                    f'FSPLoss: feats_S_{side} has {c_s} channels but '
                    f'feats_T_{side} has {c_t}; FSP matrices are only '
                    'comparable for equal channel counts, so tap layers of '
                    'equal width (or add a ConvConnector to the student '
                    'layer).')
        g_s = self.fsp_matrix(feats_S_a, feats_S_b)
        g_t = self.fsp_matrix(feats_T_a.detach(), feats_T_b.detach())
        return self.loss_weight * (g_s - g_t).pow(2).mean()
