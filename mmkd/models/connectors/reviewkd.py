"""ReviewKD's attention-based fusion (Chen et al., CVPR 2021)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import CONNECTORS


class ABF(nn.Module):
    """One attention-based fusion step of ReviewKD.

    ``x`` (a student map) goes through a 1x1 conv + BN to ``mid_channels``;
    when fusing, the residual ``y`` from the deeper level is upsampled
    (nearest) to ``x``'s size and mixed by two sigmoid attention maps from
    a 1x1 conv on ``[x, y]``: ``x' = x a_0 + y a_1``. ``x'`` is the next
    residual; a 3x3 conv + BN maps it to ``out_channels``.

    Args:
        in_channels (int): Student channels at this level.
        mid_channels (int): Channels of the residual path.
        out_channels (int): Teacher channels at this level.
        fuse (bool): Mix in the deeper level's residual (every level but
            the deepest).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 fuse: bool) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 1, bias=False),
            nn.BatchNorm2d(mid_channels))
        self.conv2 = nn.Sequential(
            nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.att_conv = nn.Sequential(
            nn.Conv2d(2 * mid_channels, 2, 1), nn.Sigmoid()) if fuse else None
        nn.init.kaiming_uniform_(self.conv1[0].weight, a=1)
        nn.init.kaiming_uniform_(self.conv2[0].weight, a=1)

    def forward(self, x: torch.Tensor, residual: Optional[torch.Tensor] = None,
                out_size: Optional[int] = None):
        x = self.conv1(x)
        if self.att_conv is not None:
            residual = F.interpolate(residual, x.shape[-2:], mode='nearest')
            att = self.att_conv(torch.cat([x, residual], dim=1))
            x = x * att[:, 0:1] + residual * att[:, 1:2]
        if out_size is not None and x.shape[-1] != out_size:
            x = F.interpolate(x, (out_size, out_size), mode='nearest')
        return self.conv2(x), x


@CONNECTORS.register_module()
class ReviewKDFusion(nn.Module):
    """ReviewKD's review path: all student levels, fused deep to shallow.

    Takes the student's maps shallow to deep (a list; a ``[N, C]`` pooled
    vector counts as a 1x1 map) and returns one map per level in the same
    order, each in its teacher's channels: the deepest level is
    ``ABF(x_n)``; every shallower level ``i`` fuses its own map with the
    residual of level ``i + 1`` (:class:`ABF`), so the output at level
    ``i`` has reviewed all deeper levels. The official ``build_review_kd``
    uses ``mid_channels = min(512, in_channels[-1])`` (CIFAR), 512 for
    ImageNet ResNet-18.

    Args:
        in_channels (Sequence[int]): Student channels, shallow to deep.
        out_channels (Sequence[int]): Teacher channels, the same order.
        mid_channels (int, optional): Residual-path channels. Defaults to
            ``min(512, in_channels[-1])``.
        out_sizes (Sequence[int], optional): Teacher map sizes when they
            differ from the student's (the residual is resized to it);
            None keeps the student's sizes.

    Examples:
        >>> fuse = ReviewKDFusion([16, 32, 64, 64], [16, 32, 64, 64])
        >>> feats = [torch.randn(2, 16, 32, 32), torch.randn(2, 32, 16, 16),
        ...          torch.randn(2, 64, 8, 8), torch.randn(2, 64)]
        >>> [tuple(f.shape) for f in fuse(feats)][-1]
        (2, 64, 1, 1)
    """

    def __init__(self, in_channels: Sequence[int],
                 out_channels: Sequence[int],
                 mid_channels: Optional[int] = None,
                 out_sizes: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if len(in_channels) != len(out_channels) or len(in_channels) < 1:
            raise ValueError(
                f'ReviewKDFusion: in_channels {list(in_channels)} and '
                f'out_channels {list(out_channels)} must list the same '
                'levels (student and teacher channels, shallow to deep).')
        if out_sizes is not None and len(out_sizes) != len(in_channels):
            raise ValueError(
                f'ReviewKDFusion: out_sizes {list(out_sizes)} must give one '
                f'size per level ({len(in_channels)}).')
        self.in_channels = list(in_channels)
        self.out_sizes = list(out_sizes) if out_sizes is not None else None
        mid = min(512, in_channels[-1]) if mid_channels is None \
            else mid_channels
        n = len(in_channels)
        self.abfs = nn.ModuleList(
            ABF(c_in, mid, c_out, fuse=i < n - 1)
            for i, (c_in, c_out) in enumerate(zip(in_channels, out_channels)))

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        if not isinstance(feats, (list, tuple)) or len(feats) != len(
                self.abfs):
            got = len(feats) if isinstance(feats, (list, tuple)) else 1
            raise ValueError(
                f'ReviewKDFusion expects a list of {len(self.abfs)} student '
                f'maps (input=[...] shallow to deep), got {got}.')
        feats = [f[:, :, None, None] if f.dim() == 2 else f for f in feats]
        for i, (f, c) in enumerate(zip(feats, self.in_channels)):
            if f.shape[1] != c:
                raise ValueError(
                    f'ReviewKDFusion: level {i} has {f.shape[1]} channels, '
                    f'in_channels[{i}]={c}; set in_channels[{i}]='
                    f'{f.shape[1]}.')
        sizes = self.out_sizes or [None] * len(feats)
        outs = [None] * len(feats)
        residual = None
        for i in reversed(range(len(feats))):
            outs[i], residual = self.abfs[i](feats[i], residual, sizes[i])
        return outs
