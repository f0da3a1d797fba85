"""Liu et al., "Cross-Architecture Knowledge Distillation", ACCV 2022."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.models.connectors.cakd import (PCA_MODES, GLProjector,
                                         PCAProjector, relations)
from mmkd.registry import DISTILL_LOSSES
from ..interfaces import LossWeightScheduled, MultiTermLoss


@DISTILL_LOSSES.register_module()
class CAKDLoss(LossWeightScheduled, MultiTermLoss, nn.Module):
    """CAKD projection losses: a CNN student mimics a Transformer teacher.

    The loss owns its two projectors (trained with the student) and compares
    the student's projected feature map with the teacher's last block::

        L = w * ( a * MSE(A_S, A_T) + b * MSE(R_S, R_T)        # PCA
                + g * MSE(GL(x_S), T_tokens)                    # GL
                + c * MSE(W p_S, T_cls) + l * MSE(z_S, z_T) )   # cls, logits

    where ``A`` and ``R`` are the attention and ``V V^T`` relations of
    :func:`mmkd.models.connectors.cakd.relations` (student side from
    :class:`PCAProjector`, teacher side from its patch-token Q, K, V;
    per attention window for a Swin teacher, whose relations include
    neither its relative position bias nor its shift mask, which do not
    depend on the input),
    ``GL`` is :class:`GLProjector`, ``p_S`` the student's pooled feature
    and ``W`` a Linear to the teacher's width. The class-token and logit
    terms are used only when their weights are non-zero.

    ``mode`` picks the form: ``'released-code'`` (the authors' code:
    bias-free Linear to Q/K/V, head-averaged pre-softmax relations, no
    replacement; ``a = 0.2, b = 0.05, g = 0.05``) or ``'paper'`` (3x3
    convolutions, softmax attention per head, each of Q/K/V replaced by
    the teacher's with probability ``replace_prob`` in training).

    ``w = loss_weight`` is the ramped factor: ``LossWeightRampHook`` sets
    it through :meth:`set_loss_weight` (the release: 0 until epoch 25, then
    linearly to 0.2 at epoch 75).

    :meth:`forward` returns a dict: the weighted terms ``pca_attn``,
    ``pca_vv``, ``gl`` (and ``cls``, ``logits``), which ``CAKDDistiller``
    logs as ``<loss name>.<term>``, plus ``attn_S`` and ``attn_T``, the
    two attention relations its discriminator compares (not losses).

    Args:
        student_channels (int): Channels of the tapped student map.
        teacher_dims (int): The teacher's token width ``C_T``.
        teacher_heads (int): The teacher's attention heads.
        mode (str): ``'released-code'`` or ``'paper'``.
            Defaults to ``'released-code'``.
        pca (dict, optional): Extra :class:`PCAProjector` arguments:
            ``embed_dims`` (default: ``teacher_dims`` in the paper mode,
            ``student_channels`` in the released-code mode), ``num_heads``
            (default ``teacher_heads``), ``replace_prob``, ``kernel_size``.
        gl (dict, optional): Extra :class:`GLProjector` arguments
            (``window_size``, ``grouping``).
        pooled_channels (int, optional): Width of the student's pooled
            feature for the class-token term; required when
            ``cls_weight > 0``.
        attn_weight (float): ``a``. Defaults to 0.2.
        vv_weight (float): ``b``. Defaults to 0.05.
        gl_weight (float): ``g``. Defaults to 0.05.
        cls_weight (float): ``c``. Defaults to 0 (off). The reference
            notes give no value.
        logit_weight (float): ``l``. Defaults to 0 (off); likewise.
        loss_weight (float): ``w``. Defaults to 1.0.

    Examples:
        >>> loss = CAKDLoss(64, teacher_dims=32, teacher_heads=4)
        >>> q = k = v = torch.randn(2, 4, 16, 8)
        >>> out = loss(torch.randn(2, 64, 8, 8), q, k, v,
        ...            torch.randn(2, 32, 4, 4))
        >>> sorted(out)
        ['attn_S', 'attn_T', 'gl', 'pca_attn', 'pca_vv']
    """

    #: The maps the distiller's discriminator compares, not loss terms.
    extra_outputs = ('attn_S', 'attn_T')

    def __init__(self,
                 student_channels: int,
                 teacher_dims: int,
                 teacher_heads: int,
                 mode: str = 'released-code',
                 pca: Optional[dict] = None,
                 gl: Optional[dict] = None,
                 pooled_channels: Optional[int] = None,
                 attn_weight: float = 0.2,
                 vv_weight: float = 0.05,
                 gl_weight: float = 0.05,
                 cls_weight: float = 0.0,
                 logit_weight: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in PCA_MODES:
            raise ValueError(f'CAKDLoss: mode={mode!r} is unknown; use one '
                             f'of {PCA_MODES}.')
        pca = dict(pca or {})
        pca.setdefault('embed_dims',
                       teacher_dims if mode == 'paper' else student_channels)
        pca.setdefault('num_heads', teacher_heads)
        if mode == 'paper' and (pca['embed_dims'], pca['num_heads']) != (
                teacher_dims, teacher_heads):
            raise ValueError(
                'CAKDLoss (paper mode) swaps student and teacher Q/K/V, so '
                f"pca.embed_dims={pca['embed_dims']} and pca.num_heads="
                f"{pca['num_heads']} must equal teacher_dims={teacher_dims} "
                f'and teacher_heads={teacher_heads}.')
        self.mode = mode
        self.teacher_dims = teacher_dims
        self.pca = PCAProjector(student_channels, mode=mode, **pca)
        self.gl = GLProjector(student_channels, teacher_dims, **(gl or {}))
        self.cls_proj = None
        if cls_weight:
            if pooled_channels is None:
                raise ValueError('CAKDLoss: cls_weight > 0 needs '
                                 'pooled_channels (the width of the '
                                 "student's pooled feature).")
            self.cls_proj = nn.Linear(pooled_channels, teacher_dims)
        self.attn_weight = attn_weight
        self.vv_weight = vv_weight
        self.gl_weight = gl_weight
        self.cls_weight = cls_weight
        self.logit_weight = logit_weight
        self.loss_weight = loss_weight

    def set_loss_weight(self, weight: float) -> None:
        """Set the ramped factor ``w`` (see ``LossWeightRampHook``)."""
        self.loss_weight = float(weight)

    def forward(self,
                feats_S: torch.Tensor,
                t_q: torch.Tensor,
                t_k: torch.Tensor,
                t_v: torch.Tensor,
                t_featmap: torch.Tensor,
                pooled_S: Optional[torch.Tensor] = None,
                t_cls: Optional[torch.Tensor] = None,
                preds_S: Optional[torch.Tensor] = None,
                preds_T: Optional[torch.Tensor] = None,
                t_windows: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """Compute the terms.

        Args:
            feats_S (Tensor): Student map ``[B, C_S, H_S, W_S]``.
            t_q, t_k, t_v (Tensor): The teacher's patch-token Q, K, V
                ``[B, h, H*W, d]`` (class/distillation tokens removed).
            t_featmap (Tensor): The teacher's output patch tokens as a map
                ``[B, C_T, H, W]``; gives the grid.
            pooled_S (Tensor, optional): Student pooled feature ``[B, P]``
                (class-token term).
            t_cls (Tensor, optional): The teacher's class token ``[B, C_T]``.
            preds_S, preds_T (Tensor, optional): Logits (logit term).
            t_windows (Tensor, optional): A windowed teacher's (Swin)
                ``[nW, Nw]`` window indices; ``t_q``, ``t_k``, ``t_v`` are
                then ``[B, nW, h, Nw, d]`` and the PCA relations are
                matched inside each window (the student's tokens cut into
                the same windows).

        Returns:
            dict[str, Tensor]: Weighted terms, plus ``attn_S``/``attn_T``.
        """
        if t_featmap.shape[1] != self.teacher_dims:
            raise ValueError(
                f'CAKDLoss: teacher tokens have {t_featmap.shape[1]} '
                f'channels but teacher_dims={self.teacher_dims}; set '
                f'teacher_dims={t_featmap.shape[1]}.')
        size = tuple(t_featmap.shape[-2:])
        t_q, t_k, t_v = (t.detach() for t in (t_q, t_k, t_v))
        if (t_q.dim() == 5) != (t_windows is not None):
            raise ValueError(
                f"CAKDLoss: the teacher's Q/K/V have shape "
                f'{tuple(t_q.shape)} and t_windows is '
                f"{'None' if t_windows is None else 'set'}; a windowed "
                "(Swin) teacher's [B, nW, h, Nw, d] Q/K/V need inputs "
                "t_windows='t_windows', a ViT's [B, h, N, d] none.")
        if t_windows is not None:
            t_q, t_k, t_v = (t.flatten(0, 1) for t in (t_q, t_k, t_v))
        attn_S, vv_S = self.pca(feats_S, size, (t_q, t_k, t_v), t_windows)
        attn_T, vv_T = relations(t_q, t_k, t_v, self.mode)
        if attn_S.shape != attn_T.shape:
            raise ValueError(
                f'CAKDLoss: student attention {tuple(attn_S.shape)} and '
                f"teacher attention {tuple(attn_T.shape)} differ; set "
                "pca.num_heads to the teacher's heads (paper mode).")
        w = self.loss_weight
        tokens_T = t_featmap.detach().flatten(2).transpose(1, 2)
        out = dict(
            pca_attn=w * self.attn_weight * F.mse_loss(attn_S, attn_T),
            pca_vv=w * self.vv_weight * F.mse_loss(vv_S, vv_T),
            gl=w * self.gl_weight * F.mse_loss(self.gl(feats_S, size),
                                               tokens_T))
        if self.cls_weight:
            if t_cls is None:
                raise ValueError('CAKDLoss: cls_weight > 0 needs the '
                                 "teacher's class token t_cls, which this "
                                 'teacher has not (e.g. Swin); set '
                                 'cls_weight=0 or map t_cls.')
            if pooled_S is None:
                raise ValueError('CAKDLoss: cls_weight > 0 needs input '
                                 'pooled_S.')
            out['cls'] = w * self.cls_weight * F.mse_loss(
                self.cls_proj(pooled_S), t_cls.detach())
        if self.logit_weight:
            if preds_S is None or preds_T is None:
                raise ValueError('CAKDLoss: logit_weight > 0 needs inputs '
                                 'preds_S and preds_T.')
            out['logits'] = w * self.logit_weight * F.mse_loss(
                preds_S, preds_T.detach())
        out.update(attn_S=attn_S, attn_T=attn_T.detach())
        return out
