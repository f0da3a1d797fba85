"""Read Q, K, V, the attention map and the tokens of a Vision Transformer.

CAKD (Liu et al., ACCV 2022) distils from the last block of a Transformer
teacher: its queries, keys and values, its attention map and its output
tokens. The authors' release obtained them by overwriting files of torch and
torchvision; here they come from forward hooks on an unmodified mmpretrain
``VisionTransformer`` (or ``DistilledVisionTransformer``, DeiT):

- ``layers[i].attn.qkv`` (the fused ``nn.Linear`` of mmpretrain's
  ``MultiheadAttention``): its output ``[B, N, 3C]`` is split exactly as
  ``MultiheadAttention.forward`` splits it, into Q, K, V ``[B, h, N, d]``;
- ``patch_embed``: its second output is the patch grid ``(H, W)``;
- the backbone's final norm ``ln1`` (or the block itself when there is no
  final norm, or when ``block_index`` is not the last block): the tokens.

mmpretrain's ``SwinTransformer`` (windowed attention, no class token) is
read by :class:`SwinAttentionTap` the same way, per window;
:func:`build_attention_tap` picks the tap for a backbone.

The ``num_extra_tokens`` leading tokens (class token, and DeiT's
distillation token) are split off explicitly: Q, K, V and the patch tokens
cover the ``H * W`` patch tokens only; the attention map is the model's own,
over all ``N = num_extra_tokens + H * W`` tokens.
"""
import contextlib
import functools
from typing import Dict, Optional

import torch
import torch.nn as nn


class ViTAttentionTap:
    """Forward hooks that expose one Transformer block of an mmpretrain ViT.

    Args:
        backbone (nn.Module): An mmpretrain ``VisionTransformer`` or
            ``DistilledVisionTransformer`` (anything with ``layers`` of
            blocks whose ``attn`` has a fused ``qkv`` Linear, ``num_heads``
            and ``head_dims``, and a ``patch_embed``).
        block_index (int): The block to read. Defaults to -1 (the last).
        field (str): The config field, for error messages.

    After a forward inside :meth:`recording`, :meth:`tensors` returns:

    - ``q``, ``k``, ``v``: ``[B, h, H*W, d]``, patch tokens only;
    - ``attn``: ``[B, h, N, N]``, softmax(Q K^T * scale) over all tokens,
      the map the block really used (attention dropout aside);
    - ``tokens``: ``[B, H*W, C]``, the block's output patch tokens (after the
      backbone's final norm for the last block);
    - ``featmap``: the same tokens as a map ``[B, C, H, W]``;
    - ``extra_tokens``: ``[B, num_extra_tokens, C]`` (class token first,
      then DeiT's distillation token), or ``None`` without them;
    - ``windows``: ``None`` (global attention; see
      :class:`SwinAttentionTap`).

    Raises:
        TypeError: The backbone is not such a Transformer (e.g. a CNN), or
            its attention is windowed (Swin: use :class:`SwinAttentionTap`).

    Examples:
        >>> from mmpretrain.models import VisionTransformer
        >>> vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=2,
        ...     num_heads=4, feedforward_channels=64), img_size=32,
        ...     patch_size=4)
        >>> tap = ViTAttentionTap(vit)
        >>> with tap.recording():
        ...     _ = vit(torch.randn(2, 3, 32, 32))
        >>> tap.tensors()['q'].shape
        torch.Size([2, 4, 64, 8])
    """

    def __init__(self,
                 backbone: nn.Module,
                 block_index: int = -1,
                 field: str = 'model.teacher.backbone') -> None:
        layers = getattr(backbone, 'layers', None)
        if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
            raise TypeError(
                f'{field} is a {type(backbone).__name__}, not a Vision '
                'Transformer with `layers`; CAKD reads Q/K/V from the '
                'teacher\'s attention, so use an mmpretrain '
                'VisionTransformer or DistilledVisionTransformer (DeiT), '
                'or a SwinTransformer (read by SwinAttentionTap).')
        try:
            block = layers[block_index]
        except IndexError:
            raise IndexError(f'{field}: block_index={block_index} but the '
                             f'backbone has {len(layers)} layers.') from None
        attn = getattr(block, 'attn', None)
        if not all(
                hasattr(attn, a)
                for a in ('qkv', 'num_heads', 'head_dims')) or hasattr(
                    attn, 'window_size') or not hasattr(
                        backbone, 'patch_embed'):
            raise TypeError(
                f'{field} ({type(backbone).__name__}) has no global '
                'multi-head attention with a fused `qkv` Linear in its '
                'blocks; use a VisionTransformer or DeiT teacher (or a '
                'SwinTransformer, read by SwinAttentionTap).')
        if getattr(attn, 'v_shortcut', False):
            raise TypeError(f'{field}: attention with v_shortcut=True is '
                            'not supported.')
        self.num_heads = attn.num_heads
        self.head_dims = attn.head_dims
        self.embed_dims = attn.num_heads * attn.head_dims
        # the instance attribute (0 when with_cls_token=False) wins
        self.num_extra_tokens = int(getattr(backbone, 'num_extra_tokens', 0))
        # the factor on Q K^T the block really uses: head_dims ** -0.5,
        # unless mmpretrain's qk_scale path is taken, whose pure-Python
        # attention divides by its `scale` keyword
        sdpa = getattr(attn, 'scaled_dot_product_attention', None)
        if isinstance(sdpa, functools.partial) and 'scale' in sdpa.keywords:
            self.scale = 1.0 / sdpa.keywords['scale']
        else:
            self.scale = self.head_dims**-0.5
        self.active = False
        self.records: Dict[str, object] = {}
        last = block_index in (-1, len(layers) - 1)
        norm = getattr(backbone, 'ln1', None) if last and getattr(
            backbone, 'final_norm', False) else None
        token_module = norm if isinstance(norm, nn.Module) else block
        self._handles = [
            attn.qkv.register_forward_hook(self._record('qkv')),
            backbone.patch_embed.register_forward_hook(self._record('embed')),
            token_module.register_forward_hook(self._record('out')),
        ]

    def _record(self, key: str):

        def hook(module, args, output):
            if self.active:
                self.records[key] = output

        return hook

    @contextlib.contextmanager
    def recording(self):
        """Record during this block only; clears older records first."""
        self.records.clear()
        self.active = True
        try:
            yield self
        finally:
            self.active = False

    def clear(self) -> None:
        self.records.clear()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def tensors(self) -> Dict[str, Optional[torch.Tensor]]:
        """The recorded tensors (see the class docstring)."""
        if not {'qkv', 'embed', 'out'} <= set(self.records):
            raise RuntimeError('ViTAttentionTap has no record; run the '
                               'backbone inside `with tap.recording():`.')
        qkv = self.records['qkv']
        B, N, _ = qkv.shape
        hw = tuple(self.records['embed'][1])
        e = self.num_extra_tokens
        if N != e + hw[0] * hw[1]:
            raise RuntimeError(
                f'the tapped block saw {N} tokens but the patch grid {hw} '
                f'plus {e} extra tokens makes {e + hw[0] * hw[1]}.')
        # the same split as mmpretrain's MultiheadAttention.forward
        q, k, v = qkv.reshape(B, N, 3, self.num_heads,
                              self.head_dims).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        out = self.records['out']
        tokens = out[:, e:]
        return dict(
            q=q[:, :, e:],
            k=k[:, :, e:],
            v=v[:, :, e:],
            attn=attn,
            tokens=tokens,
            featmap=tokens.transpose(1, 2).reshape(B, -1, *hw),
            extra_tokens=out[:, :e] if e else None,
            windows=None)


def _swin_blocks(backbone: nn.Module):
    """``[(stage index, block)]`` of an mmpretrain Swin, or None."""
    stages = getattr(backbone, 'stages', None)
    if not isinstance(stages, nn.ModuleList):
        return None
    blocks = [(i, block) for i, stage in enumerate(stages)
              for block in getattr(stage, 'blocks', [])]
    if not blocks or not all(
            hasattr(getattr(b, 'attn', None), 'w_msa') for _, b in blocks):
        return None
    return blocks


class SwinAttentionTap:
    """Forward hooks that expose one block of an mmpretrain Swin.

    ``SwinTransformer``'s blocks attend inside ``window_size x
    window_size`` windows of the token grid, cyclically shifted by
    ``shift_size`` in every other block (``ShiftWindowMSA`` around
    ``WindowMSA``). Read from the unmodified model:

    - ``attn.w_msa.qkv`` (its fused ``nn.Linear``): its output
      ``[B * nW, Nw, 3C]`` over the ``nW`` windows of ``Nw`` tokens, split
      as ``WindowMSA.forward`` splits it;
    - ``attn.w_msa``'s ``mask`` argument (the shifted-window mask) and its
      relative position bias table, for the attention map;
    - the block's ``hw_shape`` argument: the token grid ``(H, W)``;
    - the backbone's ``norm{i}`` after the last block of stage ``i`` when
      there is one (the stage's output), else the block's output: tokens.

    After a forward inside :meth:`recording`, :meth:`tensors` returns:

    - ``q``, ``k``, ``v``: ``[B, nW, h, Nw, d]``, per window;
    - ``attn``: ``[B, nW, h, Nw, Nw]``, softmax(Q K^T * scale + relative
      position bias + shift mask), the map the block used;
    - ``windows``: ``[nW, Nw]`` LongTensor, the index into the flattened
      ``H * W`` grid of each window's tokens (after the cyclic shift), so
      any token map can be cut into the same windows;
    - ``tokens`` ``[B, H*W, C]`` and ``featmap`` ``[B, C, H, W]``;
    - ``extra_tokens``: None (Swin has no class token).

    The grid must be a whole number of windows (mmpretrain pads it
    otherwise, and the padded tokens have no place in a student's map).

    Args:
        backbone (nn.Module): An mmpretrain ``SwinTransformer``.
        block_index (int): The block to read, counted over all stages.
            Defaults to -1 (the last block of the last stage).
        field (str): The config field, for error messages.

    Examples:
        >>> from mmpretrain.models import SwinTransformer
        >>> swin = SwinTransformer(arch=dict(embed_dims=16, depths=[2, 2],
        ...     num_heads=[2, 4]), img_size=32, patch_size=2,
        ...     window_size=4, out_indices=(1, ))
        >>> tap = SwinAttentionTap(swin)
        >>> with tap.recording():
        ...     _ = swin(torch.randn(2, 3, 32, 32))
        >>> tap.tensors()['q'].shape  # 8x8 grid: 4 windows of 4x4
        torch.Size([2, 4, 4, 16, 8])
    """

    def __init__(self,
                 backbone: nn.Module,
                 block_index: int = -1,
                 field: str = 'model.teacher.backbone') -> None:
        blocks = _swin_blocks(backbone)
        if blocks is None:
            raise TypeError(f'{field} is a {type(backbone).__name__}, not '
                            'an mmpretrain SwinTransformer.')
        try:
            stage, block = blocks[block_index]
        except IndexError:
            raise IndexError(f'{field}: block_index={block_index} but the '
                             f'backbone has {len(blocks)} blocks.') from None
        self.shifted_attn = block.attn
        w_msa = block.attn.w_msa
        if hasattr(w_msa, 'logit_scale') or not all(
                hasattr(w_msa, a)
                for a in ('qkv', 'relative_position_bias_table',
                          'relative_position_index', 'scale')):
            raise TypeError(
                f'{field} ({type(backbone).__name__}): only the window '
                "attention of mmpretrain's SwinTransformer (WindowMSA, "
                'scaled dot product with a relative position bias table) '
                'is supported, not Swin V2\'s cosine attention.')
        self.w_msa = w_msa
        self.num_heads = w_msa.num_heads
        self.embed_dims = w_msa.embed_dims
        self.head_dims = self.embed_dims // self.num_heads
        self.scale = w_msa.scale
        self.num_extra_tokens = 0
        self.active = False
        self.records: Dict[str, object] = {}
        last_of_stage = (block is backbone.stages[stage].blocks[-1])
        norm = getattr(backbone, f'norm{stage}', None)
        if not last_of_stage or getattr(backbone, 'out_after_downsample',
                                        False):
            norm = None
        token_module = norm if isinstance(norm, nn.Module) else block
        self._handles = [
            w_msa.qkv.register_forward_hook(self._record('qkv')),
            w_msa.register_forward_pre_hook(self._record_mask,
                                            with_kwargs=True),
            block.register_forward_pre_hook(self._record_grid),
            token_module.register_forward_hook(self._record('out')),
        ]

    def _record_mask(self, module, args, kwargs):
        if self.active:
            self.records['mask'] = kwargs.get(
                'mask', args[1] if len(args) > 1 else None)

    def _record_grid(self, module, args):
        if self.active:
            self.records['hw'] = tuple(int(s) for s in args[1])

    _record = ViTAttentionTap._record
    recording = ViTAttentionTap.recording
    clear = ViTAttentionTap.clear
    remove = ViTAttentionTap.remove

    def window_index(self, hw) -> torch.Tensor:
        """``[nW, Nw]``: grid index of each window's tokens, as
        ``ShiftWindowMSA.forward`` arranges them for an ``(H, W)`` grid."""
        H, W = hw
        size = self.shifted_attn.window_size
        shift = self.shifted_attn.shift_size
        if min(H, W) == size and not self.shifted_attn.pad_small_map:
            shift = 0  # mmpretrain's rule: no shift when one window fits
        if H % size or W % size:
            raise RuntimeError(
                f'the tapped Swin block sees a {H}x{W} token grid, not a '
                f'whole number of {size}x{size} windows (mmpretrain pads '
                'it); choose img_size so that the grid is a multiple of '
                'window_size.')
        index = torch.arange(H * W).view(1, H, W, 1)
        if shift > 0:
            index = torch.roll(index, shifts=(-shift, -shift), dims=(1, 2))
        windows = self.shifted_attn.window_partition(index, size)
        return windows.reshape(-1, size * size)

    def tensors(self) -> Dict[str, Optional[torch.Tensor]]:
        """The recorded tensors (see the class docstring)."""
        if not {'qkv', 'hw', 'out'} <= set(self.records):
            raise RuntimeError('SwinAttentionTap has no record; run the '
                               'backbone inside `with tap.recording():`.')
        qkv = self.records['qkv']
        hw = self.records['hw']
        windows = self.window_index(hw).to(qkv.device)
        nW, Nw = windows.shape
        BW, N, _ = qkv.shape
        if N != Nw or BW % nW:
            raise RuntimeError(
                f'the tapped Swin block saw windows {tuple(qkv.shape[:2])} '
                f'but a {hw} grid makes {nW} windows of {Nw} tokens.')
        B = BW // nW
        # the same split as mmpretrain's WindowMSA.forward
        q, k, v = qkv.reshape(BW, N, 3, self.num_heads,
                              self.head_dims).permute(2, 0, 3, 1, 4)
        w = self.w_msa
        bias = w.relative_position_bias_table[
            w.relative_position_index.view(-1)].view(N, N, -1).permute(
                2, 0, 1)
        attn = (q * self.scale) @ k.transpose(-2, -1) + bias.unsqueeze(0)
        mask = self.records.get('mask')
        attn = attn.view(B, nW, self.num_heads, N, N)
        if mask is not None:
            attn = attn + mask.view(1, nW, 1, N, N)
        out = self.records['out']
        return dict(
            q=q.reshape(B, nW, self.num_heads, N, -1),
            k=k.reshape(B, nW, self.num_heads, N, -1),
            v=v.reshape(B, nW, self.num_heads, N, -1),
            attn=attn.softmax(dim=-1),
            tokens=out,
            featmap=out.transpose(1, 2).reshape(B, -1, *hw),
            extra_tokens=None,
            windows=windows)


def build_attention_tap(backbone: nn.Module,
                        block_index: int = -1,
                        field: str = 'model.teacher.backbone'):
    """:class:`SwinAttentionTap` for a Swin, else :class:`ViTAttentionTap`
    (which rejects anything but a ViT/DeiT with one clear error)."""
    if _swin_blocks(backbone) is not None:
        return SwinAttentionTap(backbone, block_index, field)
    return ViTAttentionTap(backbone, block_index, field)
