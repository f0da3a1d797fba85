"""CAKD with a Swin teacher: SwinAttentionTap against a recomputation by
hand, windowed PCA relations, and the build-time errors."""
import pytest
import torch
from mmpretrain.models import SwinTransformer, SwinTransformerV2

from mmkd.models.algorithms.vit_taps import (SwinAttentionTap,
                                             ViTAttentionTap,
                                             build_attention_tap)
from mmkd.models.connectors import PCAProjector
from mmkd.models.connectors.cakd import relations
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402

# 32x32 input, patch 2: a 16x16 grid, then 8x8 in the last stage;
# window 4: 4 windows of 16 tokens, shifted by 2 in every second block
ARCH = dict(embed_dims=16, depths=[2, 2], num_heads=[2, 4])


def swin(img_size=32, window_size=4, **kwargs):
    torch.manual_seed(0)
    model = SwinTransformer(arch=ARCH, img_size=img_size, patch_size=2,
                            window_size=window_size, out_indices=(1, ),
                            **kwargs)
    for name, p in model.named_parameters():
        if 'relative_position_bias_table' in name:
            p.data.normal_(0, 1)  # a bias that matters
    model.eval()  # mmpretrain's Swin.train() returns None
    return model


def manual_windows(H, W, size, shift):
    """Grid index of each window's tokens, by loops."""
    out = []
    for wi in range(H // size):
        for wj in range(W // size):
            out.append([((wi * size + i + shift) % H) * W +
                        (wj * size + j + shift) % W for i in range(size)
                        for j in range(size)])
    return torch.tensor(out)


def manual_bias(table, size, heads):
    """Swin's relative position bias ``[h, N, N]``, by its definition."""
    pos = [(i, j) for i in range(size) for j in range(size)]
    bias = torch.empty(heads, len(pos), len(pos))
    for a, (i1, j1) in enumerate(pos):
        for b, (i2, j2) in enumerate(pos):
            row = (i1 - i2 + size - 1) * (2 * size - 1) + (j1 - j2 + size - 1)
            bias[:, a, b] = table[row]
    return bias


def manual_mask(H, W, size, shift):
    """-100 between tokens of a shifted window that come from different
    regions of the unshifted grid, 0 otherwise: ``[nW, N, N]``."""

    def region(i, n):
        return 0 if i < n - size else (1 if i < n - shift else 2)

    labels = torch.tensor([[region(i, H) * 3 + region(j, W)
                            for j in range(W)] for i in range(H)]).flatten()
    win = labels[manual_windows(H, W, size, 0)]  # on the shifted grid
    return (win[:, :, None] != win[:, None, :]).float() * -100.0


@pytest.mark.parametrize('block_index,shift', [(-1, 2), (-2, 0)])
def test_swin_tap_matches_manual_window_attention(block_index, shift):
    model = swin()
    tap = SwinAttentionTap(model, block_index)
    block = model.stages[-1].blocks[block_index]
    w_msa = block.attn.w_msa
    seen = {}
    handles = [
        block.norm1.register_forward_hook(
            lambda m, a, o: seen.update(normed=o)),
        w_msa.register_forward_hook(lambda m, a, o: seen.update(out=o)),
    ]
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), tap.recording():
        feats = model(x)
    for h in handles:
        h.remove()
    t = tap.tensors()
    H = W = 8
    size, heads, d = 4, 4, 8
    windows = manual_windows(H, W, size, shift)
    assert torch.equal(t['windows'], windows)
    # Q, K, V: the block's normed tokens, cut into the windows, through qkv
    x_win = seen['normed'][:, windows.flatten()].reshape(2 * 4, 16, 32)
    q, k, v = w_msa.qkv(x_win).reshape(8, 16, 3, heads, d).unbind(2)
    for name, ref in (('q', q), ('k', k), ('v', v)):
        assert t[name].shape == (2, 4, heads, 16, d)
        torch.testing.assert_close(
            t[name], ref.transpose(1, 2).reshape(2, 4, heads, 16, d))
    # the attention map: scaled Q K^T + relative position bias (+ mask)
    logits = (q.transpose(1, 2) @ k.permute(0, 2, 3, 1)) * d**-0.5
    logits = logits + manual_bias(w_msa.relative_position_bias_table.data,
                                  size, heads)
    logits = logits.reshape(2, 4, heads, 16, 16)
    if shift:
        logits = logits + manual_mask(H, W, size, shift)[None, :, None]
    torch.testing.assert_close(t['attn'], logits.softmax(-1))
    # and it is the map the block used: attn @ V through proj is its output
    y = (t['attn'] @ t['v']).reshape(8, heads, 16, d).transpose(1, 2)
    torch.testing.assert_close(w_msa.proj(y.reshape(8, 16, 32)),
                               seen['out'])
    if block_index == -1:  # the last block: the backbone's normed output
        torch.testing.assert_close(t['featmap'], feats[0])
    assert t['extra_tokens'] is None and t['tokens'].shape == (2, 64, 32)


def test_swin_one_window_is_global_attention():
    # an 8x8 grid in one 8x8 window: no shift (mmpretrain's rule)
    model = swin(img_size=16, window_size=8)  # 8x8 then 4x4 < 8: stage 0
    tap = build_attention_tap(model, block_index=1)
    assert isinstance(tap, SwinAttentionTap)
    with torch.no_grad(), tap.recording():
        model.stages[0](*model.patch_embed(torch.randn(1, 3, 16, 16)))
    t = tap.tensors()
    assert torch.equal(t['windows'], torch.arange(64)[None])
    assert t['q'].shape == (1, 1, 2, 64, 8)


def test_swin_grid_not_whole_windows_is_rejected():
    model = swin(img_size=24, pad_small_map=True)  # 12x12, then 6x6
    tap = SwinAttentionTap(model)
    with torch.no_grad(), tap.recording():
        model(torch.randn(1, 3, 24, 24))
    with pytest.raises(RuntimeError, match='multiple of window_size'):
        tap.tensors()


def test_build_attention_tap_dispatch_and_errors():
    assert isinstance(build_attention_tap(swin()), SwinAttentionTap)
    cnn = MODELS.build(tiny_classifier()).backbone
    with pytest.raises(TypeError, match='not a Vision Transformer'):
        build_attention_tap(cnn)
    with pytest.raises(TypeError, match='SwinAttentionTap'):
        ViTAttentionTap(swin())
    with pytest.raises(IndexError, match='4 blocks'):
        SwinAttentionTap(swin(), block_index=4)
    v2 = SwinTransformerV2(
        arch=dict(ARCH, extra_norm_every_n_blocks=0), img_size=32,
        patch_size=2, window_size=4, out_indices=(1, ))
    with pytest.raises(TypeError, match="not Swin V2's cosine attention"):
        build_attention_tap(v2)


def test_pca_projector_cuts_student_into_teacher_windows():
    proj = PCAProjector(8, 16, num_heads=2, mode='paper').eval()
    x = torch.randn(2, 8, 8, 8)
    windows = manual_windows(8, 8, 4, 2)
    attn, vv = proj(x, (8, 8), windows=windows)
    assert attn.shape == vv.shape == (2 * 4, 2, 16, 16)
    q, k, v = proj.project(x, (8, 8))
    # window 1 of image 1, by hand
    idx = windows[1]
    ref_attn, ref_vv = relations(q[1:2, :, idx], k[1:2, :, idx],
                                 v[1:2, :, idx], 'paper')
    torch.testing.assert_close(attn[4 + 1], ref_attn[0])
    torch.testing.assert_close(vv[4 + 1], ref_vv[0])


def swin_classifier(num_classes=10):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='SwinTransformer', arch=ARCH, img_size=32,
                      patch_size=2, window_size=4, out_indices=(1, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=32, loss=dict(type='CrossEntropyLoss')))


def swin_distiller(mode='paper', inputs=None, **kwargs):
    loss = dict(type='CAKDLoss', student_channels=32, teacher_dims=32,
                teacher_heads=4, mode=mode,
                inputs=inputs or dict(feats_S='feat_S', t_q='t_q', t_k='t_k',
                                      t_v='t_v', t_featmap='t_featmap',
                                      t_windows='t_windows'))
    loss.update(kwargs.pop('loss', {}))
    cfg = dict(type='CAKDDistiller', student=tiny_classifier(),
               teacher=swin_classifier(),
               taps=dict(feat_S='student.backbone.layer3'),
               distill_losses=dict(loss_cakd=loss))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('mode', ['paper', 'released-code'])
def test_cakd_with_swin_teacher_trains(mode):
    heads = 4 if mode == 'paper' else 1
    model = swin_distiller(mode, discriminator=dict(
        type='AttentionDiscriminator', in_channels=heads, base_channels=4))
    model.train()
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 32, 32)
    tensors = model.forward_tensors(inputs)[0]
    assert tensors['t_q'].shape == (2, 4, 4, 16, 8)
    assert tensors['t_cls'] is None and tensors['t_windows'].shape == (4, 16)
    out = model.call_loss('loss_cakd', tensors)
    n_attn = (2 * 4, 4, 16, 16) if mode == 'paper' else (2 * 4, 16, 16)
    assert out['attn_S'].shape == out['attn_T'].shape == n_attn
    # the teacher's relation is the one of its own windowed Q, K, V
    ref, _ = relations(*(tensors[k].flatten(0, 1) for k in ('t_q', 't_k',
                                                            't_v')), mode)
    torch.testing.assert_close(out['attn_T'], ref)
    loss = out['pca_attn'] + out['gl'] + model.adversarial_loss(
        out['attn_S'])
    loss.backward()
    assert model.student.backbone.stem[0].weight.grad.abs().sum() > 0
    model.taps.clear()


def test_swin_build_time_errors():
    with pytest.raises(ValueError, match="t_windows='t_windows'"):
        swin_distiller(inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k',
                                   t_v='t_v', t_featmap='t_featmap'))
    with pytest.raises(ValueError, match='set cls_weight=0'):
        swin_distiller(
            'released-code',
            inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k', t_v='t_v',
                        t_featmap='t_featmap', t_windows='t_windows',
                        pooled_S='pool_S', t_cls='t_cls'),
            loss=dict(cls_weight=0.1, pooled_channels=32),
            taps=dict(feat_S='student.backbone.layer3',
                      pool_S='student.head.fc:input'))
    bad = swin_classifier()
    bad['backbone'].update(img_size=24, pad_small_map=True)
    with pytest.raises(RuntimeError, match='multiple of window_size'):
        MODELS.build(dict(
            type='CAKDDistiller', student=tiny_classifier(), teacher=bad,
            taps=dict(feat_S='student.backbone.layer3'),
            check_input_shape=(3, 24, 24),
            distill_losses=dict(loss_cakd=dict(
                type='CAKDLoss', student_channels=32, teacher_dims=32,
                teacher_heads=4,
                inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k',
                            t_v='t_v', t_featmap='t_featmap',
                            t_windows='t_windows')))))
