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
      then DeiT's distillation token), or ``None`` without them.

    Raises:
        TypeError: The backbone is not such a Transformer (e.g. a CNN), or
            its attention is windowed (Swin), whose Q/K/V are not global.

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
                'VisionTransformer or DistilledVisionTransformer (DeiT).')
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
                'blocks (windowed attention such as Swin\'s is not '
                'supported); use a VisionTransformer or DeiT teacher.')
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
            extra_tokens=out[:, :e] if e else None)
