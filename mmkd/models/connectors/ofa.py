"""OFA-KD's stage branches into the logit space (Hao et al., NeurIPS 2023)."""
import math

import torch
import torch.nn as nn

from mmkd.registry import CONNECTORS


class SepConv(nn.Module):
    """Two depthwise-separable 3x3 convs, the first with stride 2, each
    followed by BN and ReLU (the official ``SepConv``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        c = in_channels
        self.op = nn.Sequential(
            nn.Conv2d(c, c, 3, 2, 1, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False),
            nn.Conv2d(c, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


@CONNECTORS.register_module()
class OFABranch(nn.Module):
    """A CNN student stage projected into the logit space.

    ``num_downsample`` :class:`SepConv` blocks (each halves the size and
    doubles the channels; the last one outputs ``out_channels``), or, with
    ``num_downsample=0`` (the last stage), a 1x1 conv to ``out_channels``;
    then global average pooling and a linear classifier to
    ``num_classes``. The official branch for stage ``s`` of a 4-stage CNN
    has ``4 - s`` SepConvs and ``out_channels = max(C_S, C_T)``, the larger
    of the student's and teacher's final feature sizes. Initialisation as
    the official ``init_weights``: convs He-normal (fan-out), BN 1 / 0,
    linear truncated normal (std 0.02), bias 0.

    Args:
        in_channels (int): Channels of the student's stage map.
        out_channels (int): Channels before pooling (``max(C_S, C_T)``).
        num_classes (int): The teacher's classes.
        num_downsample (int): SepConv blocks (0 for the last stage).

    Examples:
        >>> branch = OFABranch(64, 512, 1000, num_downsample=3)
        >>> branch(torch.randn(2, 64, 56, 56)).shape
        torch.Size([2, 1000])
    """

    def __init__(self, in_channels: int, out_channels: int, num_classes: int,
                 num_downsample: int) -> None:
        super().__init__()
        if num_downsample < 0:
            raise ValueError('OFABranch: num_downsample must be >= 0 (the '
                             'number of stages after this one), got '
                             f'{num_downsample}.')
        self.in_channels = in_channels
        if num_downsample == 0:
            blocks = [nn.Conv2d(in_channels, out_channels, 1)]
        else:
            blocks, c = [], in_channels
            for i in range(num_downsample):
                last = i == num_downsample - 1
                blocks.append(SepConv(c, out_channels if last else 2 * c))
                c *= 2
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(out_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'OFABranch expects [N, {self.in_channels}, H, W], got '
                f'{tuple(x.shape)}; set in_channels to the stage\'s '
                'channels.')
        return self.fc(self.blocks(x).mean((2, 3)))


class TokenPatchMerging(nn.Module):
    """Swin-style 2x2 patch merging of a token grid (the official OFA-KD
    ``PatchMerging``): tokens ``[B, H*W, C]`` in row-major grid order are
    regrouped into 2x2 neighbourhoods, concatenated in the order (even row,
    even col), (odd row, even col), (even row, odd col), (odd row, odd col)
    to ``4C``, then LayerNorm(4C), Linear(4C -> ``out_channels``, no bias)
    and ``act`` (GELU or identity). Output ``[B, H/2*W/2, out_channels]``.

    mmpretrain's own ``PatchMerging`` (an ``nn.Unfold``) orders the 4C
    channels differently, so it is not used here.

    Args:
        grid (int): H = W of the input token grid (even).
        in_channels (int): C.
        out_channels (int): Output width.
        act (bool): GELU after the reduction if True, else identity.
    """

    def __init__(self, grid: int, in_channels: int, out_channels: int,
                 act: bool = True) -> None:
        super().__init__()
        self.grid = grid
        self.norm = nn.LayerNorm(4 * in_channels)
        self.reduction = nn.Linear(4 * in_channels, out_channels, bias=False)
        self.act = nn.GELU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        g = self.grid
        x = x.reshape(b, g, g, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2],
                       x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        x = x.reshape(b, (g // 2)**2, 4 * c)
        return self.act(self.reduction(self.norm(x)))


@CONNECTORS.register_module()
class OFAViTBranch(nn.Module):
    """A Transformer student's stage tokens projected into the logit space.

    The official OFA-KD branch for non-CNN students (Hao840/OFAKD
    ``distillers/ofa.py``, the ``is_cnn_student == False`` path), on the
    tokens ``[B, T + N, C]`` a block outputs (``T`` leading class tokens,
    ``N = G*G`` patch tokens in row-major grid order):

    1. the ``T`` class tokens are split off and kept unchanged;
    2. the patch tokens go through ``max(int(log2(G / final_grid)), 0)``
       :class:`TokenPatchMerging` layers (2x2 merges): the first maps
       ``in_channels -> out_channels`` with GELU, later ones
       ``out_channels -> out_channels``, GELU except on the last one
       (with one merge, the first wins: GELU);
    3. ``[class tokens, merged tokens]`` (class tokens first) go through
       ``num_blocks`` pre-norm Transformer blocks of width
       ``out_channels``, 4 heads, MLP ratio 4, no QKV bias (timm 0.6.5's
       ``Block(dim, num_heads=4)``; here mmpretrain's
       ``TransformerEncoderLayer``, the same computation);
    4. the feature is the class token (``T = 1``; it is not dropped) or,
       without class tokens (Swin), the mean over all tokens; no final
       norm; 5. Linear(``out_channels -> num_classes``).

    Official settings: stage ``s`` of 4 gets ``num_blocks = max(4 - s, 1)``
    (3, 2, 1, 1), ``out_channels`` is the student's final width (for a ViT
    the embedding width), ``final_grid = 7``. For a 12-block DeiT the four
    stages are blocks 1, 3, 9 and 11 (0-based, outputs before the final
    norm: taps ``student.backbone.layers.1`` ... ``layers.11``); 224 px,
    patch 16: ``G = 14``, one merge. For Swin-T/N the stages are the last
    block of each stage, before its downsampling (``student.backbone.
    stages.<i>.blocks.<last>``): ``G = 56, 28, 14, 7``, 3/2/1/0 merges.
    Initialisation as the official ``init_weights``: Linear truncated
    normal (std 0.02), bias 0; LayerNorm 1 / 0.

    Args:
        in_channels (int): Token width at the tap.
        out_channels (int): Branch width (the student's final width).
        num_classes (int): The teacher's classes.
        num_patches (int): Patch tokens at the tap, ``G * G``.
        num_blocks (int): Transformer blocks (``max(4 - stage, 1)``).
        num_tokens (int): Leading class tokens: 1 (ViT/DeiT's class
            token) or 0 (Swin). Defaults to 1.
        num_heads (int): Heads of the blocks. Defaults to 4.
        final_grid (int): Grid the merges aim at. Defaults to 7.

    Examples:
        >>> branch = OFAViTBranch(192, 192, 1000, num_patches=196,
        ...                       num_blocks=3)
        >>> branch(torch.randn(2, 197, 192)).shape
        torch.Size([2, 1000])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_classes: int,
                 num_patches: int,
                 num_blocks: int,
                 num_tokens: int = 1,
                 num_heads: int = 4,
                 final_grid: int = 7) -> None:
        super().__init__()
        from mmpretrain.models.backbones.vision_transformer import \
            TransformerEncoderLayer
        grid = int(round(num_patches**0.5))
        if num_patches < 1 or grid * grid != num_patches:
            raise ValueError(
                f'OFAViTBranch: num_patches={num_patches} is not a square '
                'G*G; set it to the patch tokens of the tap without the '
                'class token (e.g. 196 for 224 px / patch 16).')
        if num_tokens not in (0, 1):
            raise ValueError(
                f'OFAViTBranch: num_tokens={num_tokens}; the official '
                'branch reads one class token (1, ViT/DeiT) or none (0, '
                'Swin): use a student with at most one class token.')
        if num_blocks < 1:
            raise ValueError(f'OFAViTBranch: num_blocks={num_blocks}; use '
                             'max(4 - stage, 1), at least 1.')
        merges = max(int(math.log2(grid / final_grid)), 0)
        if merges == 0 and in_channels != out_channels:
            raise ValueError(
                f'OFAViTBranch: no patch merging at grid {grid} (final_grid='
                f'{final_grid}), so in_channels ({in_channels}) must equal '
                f'out_channels ({out_channels}); set out_channels to '
                f'{in_channels}.')
        if num_tokens and in_channels != out_channels:
            raise ValueError(
                f'OFAViTBranch: the class token keeps its width '
                f'{in_channels}, so out_channels ({out_channels}) must '
                f'equal in_channels; set out_channels to {in_channels}.')
        if grid % (2**merges):
            raise ValueError(
                f'OFAViTBranch: grid {grid} cannot be halved {merges} times '
                f'(toward final_grid={final_grid}); set num_patches or '
                'final_grid so that each merge sees an even grid.')
        self.in_channels = in_channels
        self.num_tokens = num_tokens
        self.num_patches = num_patches
        self.mergers = nn.Sequential(*[
            TokenPatchMerging(grid // 2**i,
                              in_channels if i == 0 else out_channels,
                              out_channels,
                              act=i == 0 or i != merges - 1)
            for i in range(merges)])
        self.blocks = nn.Sequential(*[
            TransformerEncoderLayer(out_channels, num_heads,
                                    feedforward_channels=4 * out_channels,
                                    qkv_bias=False)
            for _ in range(num_blocks)])
        self.fc = nn.Linear(out_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.num_tokens
        if (x.dim() != 3 or x.shape[1] != t + self.num_patches
                or x.shape[2] != self.in_channels):
            raise ValueError(
                f'OFAViTBranch expects tokens [B, {t} + {self.num_patches}, '
                f'{self.in_channels}], got {tuple(x.shape)}; set '
                'num_tokens, num_patches and in_channels to the tapped '
                "block's tokens.")
        merged = self.mergers(x[:, t:])
        x = torch.cat([x[:, :t], merged], dim=1) if t else merged
        x = self.blocks(x)
        feat = x[:, 0] if t else x.mean(1)
        return self.fc(feat)
