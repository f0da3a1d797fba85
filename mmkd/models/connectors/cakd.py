"""CAKD projectors: a CNN student's feature map in a Transformer's spaces.

Liu et al., "Cross-Architecture Knowledge Distillation", ACCV 2022.
Two projectors map the student's feature map ``[B, C_S, H_S, W_S]`` into
spaces the teacher's last Transformer block lives in:

- :class:`PCAProjector` (partially cross attention): student Q, K, V and
  the relations softmax(Q K^T / sqrt(d)) and V V^T, compared with the
  teacher's;
- :class:`GLProjector` (group-wise linear): student tokens mapped to the
  teacher's token space by one Linear per spatial group, compared with the
  teacher's patch tokens.

Both first resample the student map to the teacher's patch grid
(:func:`resample_to_grid`). They are plain modules with explicit tensor
arguments; :class:`mmkd.models.losses.CAKDLoss` owns them, because the
paper's PCA needs the teacher's Q, K, V as well as the student feature (a
distiller connector gets one input), and the distiller trains a loss's
parameters together with the student.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import CONNECTORS

PCA_MODES = ('paper', 'released-code')


def resample_to_grid(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resample a map ``[B, C, H, W]`` to ``size = (H', W')``.

    Average pooling when ``H, W`` are multiples of ``H', W'`` (e.g. a 28x28
    student map to a 14x14 ViT grid), bilinear interpolation otherwise;
    unchanged when the sizes agree.
    """
    size = tuple(int(s) for s in size)
    if tuple(x.shape[-2:]) == size:
        return x
    H, W = x.shape[-2:]
    if H % size[0] == 0 and W % size[1] == 0:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


def split_heads(tokens: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``[B, N, C]`` -> ``[B, h, N, C / h]`` (the ViT head layout)."""
    B, N, C = tokens.shape
    return tokens.reshape(B, N, num_heads, C // num_heads).transpose(1, 2)


def partition_windows(x: torch.Tensor,
                      windows: torch.Tensor) -> torch.Tensor:
    """``[B, h, H*W, d]`` -> ``[B * nW, h, Nw, d]``: tokens cut into the
    windows of ``windows`` (``[nW, Nw]`` grid indices), batch-major as in
    mmpretrain's ``ShiftWindowMSA``."""
    B, h, _, d = x.shape
    nW, Nw = windows.shape
    x = x[:, :, windows.reshape(-1)].reshape(B, h, nW, Nw, d)
    return x.transpose(1, 2).reshape(B * nW, h, Nw, d)


def relations(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
              mode: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """The two relations PCA matches, from ``[B, h, N, d]`` Q, K, V.

    - ``'paper'``: per head, ``A = softmax(Q K^T / sqrt(d))`` and
      ``R = V V^T / sqrt(d)``, both ``[B, h, N, N]``.
    - ``'released-code'``: averaged over heads and before the softmax,
      ``A = mean_h(Q K^T) / sqrt(d)`` and ``R = mean_h(V V^T) / sqrt(d)``,
      both ``[B, N, N]``.

    Teacher and student relations go through this one function.
    """
    scale = q.shape[-1]**-0.5
    attn = q @ k.transpose(-2, -1) * scale
    vv = v @ v.transpose(-2, -1) * scale
    if mode == 'paper':
        return attn.softmax(dim=-1), vv
    return attn.mean(dim=1), vv.mean(dim=1)


def _check_mode(mode: str, name: str) -> None:
    if mode not in PCA_MODES:
        raise ValueError(f'{name}: mode={mode!r} is unknown; use one of '
                         f'{PCA_MODES}.')


@CONNECTORS.register_module()
class PCAProjector(nn.Module):
    """Partially cross attention projector: student map -> Q_S, K_S, V_S.

    The student map is resampled to the teacher's grid ``(H, W)`` and
    projected to ``embed_dims`` channels for each of Q, K and V, split into
    ``num_heads`` heads of ``d = embed_dims / num_heads``.

    - ``mode='paper'``: three 3x3 convolutions. In training, each of Q, K
      and V is independently replaced by the teacher's with probability
      ``replace_prob`` (one draw per batch; never in eval), then
      :func:`relations` gives ``softmax(Q K^T / sqrt(d))`` and
      ``V V^T / sqrt(d)`` per head. The replacement needs the teacher's
      Q/K/V, so ``embed_dims`` and ``num_heads`` must equal the teacher's.
    - ``mode='released-code'``: the authors' code: one bias-free
      ``Linear(C_S, 3 * embed_dims)`` on the tokens, no replacement, and the
      head-averaged pre-softmax ``Q K^T / sqrt(d)`` and ``V V^T / sqrt(d)``
      (``[B, N, N]``), which do not need the teacher's width (the release:
      ResNet-50 layer3 1024 -> 3 x 1024, 16 heads of 64).

    Args:
        in_channels (int): Student channels ``C_S``.
        embed_dims (int): Width of Q, K and V.
        num_heads (int): Heads; must divide ``embed_dims``.
        mode (str): ``'paper'`` or ``'released-code'``.
            Defaults to ``'paper'``.
        replace_prob (float): ``p`` of the paper mode. Defaults to 0.5.
        kernel_size (int): Convolution kernel of the paper mode.
            Defaults to 3.

    Examples:
        >>> proj = PCAProjector(64, 32, num_heads=4).eval()  # no swapping
        >>> attn, vv = proj(torch.randn(2, 64, 8, 8), (4, 4))
        >>> attn.shape, vv.shape
        (torch.Size([2, 4, 16, 16]), torch.Size([2, 4, 16, 16]))
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 num_heads: int,
                 mode: str = 'paper',
                 replace_prob: float = 0.5,
                 kernel_size: int = 3) -> None:
        super().__init__()
        _check_mode(mode, 'PCAProjector')
        if embed_dims % num_heads:
            raise ValueError(f'PCAProjector: num_heads={num_heads} does not '
                             f'divide embed_dims={embed_dims}.')
        if not 0 <= replace_prob <= 1:
            raise ValueError('PCAProjector: replace_prob must be in [0, 1], '
                             f'got {replace_prob}.')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.mode = mode
        self.replace_prob = replace_prob
        if mode == 'paper':
            self.q, self.k, self.v = (nn.Conv2d(
                in_channels, embed_dims, kernel_size,
                padding=kernel_size // 2) for _ in range(3))
        else:
            self.qkv = nn.Linear(in_channels, 3 * embed_dims, bias=False)
        #: Which of Q, K, V the last forward took from the teacher.
        self.last_replaced = (False, False, False)

    def project(self, x: torch.Tensor, size: Sequence[int]):
        """Student Q, K, V ``[B, h, H*W, d]`` on the grid ``size``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'PCAProjector expects a map [B, {self.in_channels}, H, W], '
                f'got {tuple(x.shape)}; set in_channels to the channels of '
                'the tapped student feature.')
        x = resample_to_grid(x, size)
        if self.mode == 'paper':
            qkv = [m(x).flatten(2).transpose(1, 2)
                   for m in (self.q, self.k, self.v)]
        else:
            qkv = self.qkv(x.flatten(2).transpose(1, 2)).chunk(3, dim=-1)
        return [split_heads(t, self.num_heads) for t in qkv]

    def forward(self,
                x: torch.Tensor,
                size: Sequence[int],
                qkv_T: Optional[Sequence[torch.Tensor]] = None,
                windows: Optional[torch.Tensor] = None):
        """Project and form the relations.

        Args:
            x (Tensor): Student map ``[B, C_S, H_S, W_S]``.
            size (tuple[int]): The teacher's patch grid ``(H, W)``.
            qkv_T (tuple[Tensor], optional): The teacher's patch-token Q, K,
                V ``[B, h, H*W, d]`` (or ``[B * nW, h, Nw, d]`` with
                ``windows``); required for the replacement in the paper
                mode during training.
            windows (Tensor, optional): ``[nW, Nw]`` grid indices of the
                teacher's attention windows (Swin, ``SwinAttentionTap``):
                the student's Q, K, V are cut into the same windows, and
                relations are formed inside each window.

        Returns:
            tuple[Tensor]: ``(attn_S, vv_S)`` as :func:`relations` gives
            (``[B * nW, ...]`` with ``windows``).
        """
        qkv = self.project(x, size)
        if windows is not None:
            qkv = [partition_windows(t, windows) for t in qkv]
        replaced = (False, False, False)
        if self.mode == 'paper' and self.training and self.replace_prob > 0:
            if qkv_T is None:
                raise ValueError('PCAProjector (paper mode) needs the '
                                 "teacher's Q, K, V (qkv_T) in training.")
            if qkv_T[0].shape != qkv[0].shape:
                raise ValueError(
                    f"PCAProjector: the teacher's Q/K/V have shape "
                    f'{tuple(qkv_T[0].shape)} but the student\'s '
                    f'{tuple(qkv[0].shape)}; set embed_dims and num_heads '
                    "to the teacher's for the paper mode.")
            draws = torch.rand(3) < self.replace_prob
            replaced = tuple(bool(d) for d in draws)
            qkv = [t.detach() if r else s
                   for s, t, r in zip(qkv, qkv_T, replaced)]
        self.last_replaced = replaced
        return relations(*qkv, mode=self.mode)


@CONNECTORS.register_module()
class GLProjector(nn.Module):
    """Group-wise linear projector: student map -> teacher patch tokens.

    The student map is resampled to the teacher's grid ``(H, W)``; each
    token is mapped ``C_S -> C_T`` by the Linear of its spatial group.
    Groups come from ``window_size = (wh, ww)``, giving ``wh * ww``
    Linears, on any grid:

    - ``grouping='residue'`` (the release: a 14x14 grid, 4x4 windows, 16
      Linears): token ``(i, j)`` uses Linear ``(i % wh, j % ww)``, i.e. each
      position inside a tiled ``wh x ww`` window has its own Linear;
    - ``grouping='block'``: the grid is cut into ``wh x ww`` contiguous
      blocks of near-equal size (token ``(i, j)`` is in block
      ``(i * wh // H, j * ww // W)``), one Linear per block.

    Args:
        in_channels (int): Student channels ``C_S``.
        out_channels (int): Teacher token width ``C_T``.
        window_size (int | tuple[int]): ``(wh, ww)``. Defaults to 4.
        grouping (str): ``'residue'`` or ``'block'``.
            Defaults to ``'residue'``.

    Examples:
        >>> gl = GLProjector(64, 32, window_size=4)
        >>> gl(torch.randn(2, 64, 14, 14), (7, 7)).shape
        torch.Size([2, 49, 32])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 window_size: Union[int, Sequence[int]] = 4,
                 grouping: str = 'residue') -> None:
        super().__init__()
        if isinstance(window_size, int):
            window_size = (window_size, window_size)
        if grouping not in ('residue', 'block'):
            raise ValueError(f'GLProjector: grouping={grouping!r} is '
                             "unknown; use 'residue' or 'block'.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.window_size = tuple(int(w) for w in window_size)
        self.grouping = grouping
        self.linears = nn.ModuleList(
            nn.Linear(in_channels, out_channels)
            for _ in range(self.window_size[0] * self.window_size[1]))

    def group_index(self, size: Sequence[int]) -> torch.Tensor:
        """The group of each token of an ``(H, W)`` grid, ``[H * W]``."""
        H, W = size
        wh, ww = self.window_size
        i = torch.arange(H)
        j = torch.arange(W)
        if self.grouping == 'residue':
            gi, gj = i % wh, j % ww
        else:
            if H < wh or W < ww:
                raise ValueError(
                    f'GLProjector: a {H}x{W} grid has fewer rows/columns '
                    f'than window_size={self.window_size} blocks.')
            gi, gj = i * wh // H, j * ww // W
        return (gi[:, None] * ww + gj[None, :]).flatten()

    def forward(self, x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
        """Map ``[B, C_S, H_S, W_S]`` to tokens ``[B, H*W, C_T]``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'GLProjector expects a map [B, {self.in_channels}, H, W], '
                f'got {tuple(x.shape)}; set in_channels to the channels of '
                'the tapped student feature.')
        tokens = resample_to_grid(x, size).flatten(2).transpose(1, 2)
        groups = self.group_index(size).to(x.device)
        out = tokens.new_empty(tokens.shape[:2] + (self.out_channels, ))
        for g, linear in enumerate(self.linears):
            idx = (groups == g).nonzero(as_tuple=True)[0]
            if idx.numel():
                out[:, idx] = linear(tokens[:, idx])
        return out

