"""OFA-KD's branch for Transformer students (``OFAViTBranch``): the 2x2
patch merging element-wise, the whole branch against a by-hand forward,
the official structure for DeiT-T and Swin, build-time errors, and a tiny
CNN -> ViT distillation that trains through KDRunner."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmkd.models.connectors import OFAViTBranch
from mmkd.models.connectors.ofa import TokenPatchMerging
from mmkd.models.losses import OFALoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


def merge_by_numpy(x, grid):
    """[B, G*G, C] -> [B, (G/2)^2, 4C]: output cell (i, j), row-major, is
    the tokens at grid (2i, 2j), (2i+1, 2j), (2i, 2j+1), (2i+1, 2j+1)."""
    x = np.asarray(x)
    b, _, c = x.shape
    h = grid // 2
    out = np.zeros((b, h * h, 4 * c), dtype=x.dtype)
    for i in range(h):
        for j in range(h):
            cells = [(2 * i, 2 * j), (2 * i + 1, 2 * j), (2 * i, 2 * j + 1),
                     (2 * i + 1, 2 * j + 1)]
            out[:, i * h + j] = np.concatenate(
                [x[:, r * grid + col] for r, col in cells], axis=-1)
    return out


def test_patch_merging_order_element_wise():
    # grid 4, C = 2: token t has values (10 t, 10 t + 1)
    x = torch.tensor([[[10. * t, 10. * t + 1] for t in range(16)]])
    m = TokenPatchMerging(grid=4, in_channels=2, out_channels=3)
    seen = {}
    m.norm.register_forward_hook(lambda mod, a, o: seen.update(x=a[0]))
    out = m(x)
    # cell (0, 0) takes tokens 0, 4, 1, 5 (rows first: (1, 0) is token 4)
    assert seen['x'][0, 0].tolist() == [0, 1, 40, 41, 10, 11, 50, 51]
    # cell (1, 1) takes tokens 10, 14, 11, 15
    assert seen['x'][0, 3].tolist() == [100, 101, 140, 141, 110, 111, 150,
                                        151]
    np.testing.assert_array_equal(seen['x'].numpy(), merge_by_numpy(x, 4))
    # then LayerNorm(4C), Linear (no bias), GELU
    v = seen['x'].numpy()
    normed = (v - v.mean(-1, keepdims=True)) / np.sqrt(
        v.var(-1, keepdims=True) + 1e-5)
    lin = normed @ m.reduction.weight.detach().numpy().T
    gelu = 0.5 * lin * (1 + np.vectorize(math.erf)(lin / math.sqrt(2)))
    np.testing.assert_allclose(out.detach().numpy(), gelu, rtol=1e-5,
                               atol=1e-6)
    assert m.reduction.bias is None
    assert out.shape == (1, 4, 3)


def block_by_hand(x, layer, heads):
    """A pre-norm Transformer block written out: x + attn(LN x), then
    x + MLP(LN x), attention without QKV bias, scale 1/sqrt(d)."""
    b, n, c = x.shape
    d = c // heads
    h = F.layer_norm(x, (c, ), layer.ln1.weight, layer.ln1.bias)
    qkv = h @ layer.attn.qkv.weight.T
    q, k, v = qkv.split(c, dim=-1)
    q, k, v = (t.reshape(b, n, heads, d).transpose(1, 2) for t in (q, k, v))
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
    o = (a @ v).transpose(1, 2).reshape(b, n, c)
    x = x + o @ layer.attn.proj.weight.T + layer.attn.proj.bias
    fc1, fc2 = layer.ffn.layers[0][0], layer.ffn.layers[1]
    h = F.layer_norm(x, (c, ), layer.ln2.weight, layer.ln2.bias)
    h = F.gelu(h @ fc1.weight.T + fc1.bias)
    return x + h @ fc2.weight.T + fc2.bias


@pytest.mark.parametrize('num_tokens', [1, 0])
def test_branch_forward_by_hand(num_tokens):
    torch.manual_seed(0)
    # grid 4 -> final_grid 2: one merge (GELU), then one block, 2 heads
    branch = OFAViTBranch(8, 8, 3, num_patches=16, num_blocks=1,
                          num_tokens=num_tokens, num_heads=2, final_grid=2)
    branch.eval()
    x = torch.randn(2, num_tokens + 16, 8)
    m = branch.mergers[0]
    merged = torch.from_numpy(merge_by_numpy(x[:, num_tokens:].numpy(), 4))
    merged = F.gelu(F.layer_norm(merged, (32, ), m.norm.weight, m.norm.bias)
                    @ m.reduction.weight.T)
    tokens = torch.cat([x[:, :num_tokens], merged], 1)  # class token first
    tokens = block_by_hand(tokens, branch.blocks[0], heads=2)
    # the class token itself (kept, no final norm), or the token mean
    feat = tokens[:, 0] if num_tokens else tokens.mean(1)
    expected = feat @ branch.fc.weight.T + branch.fc.bias
    torch.testing.assert_close(branch(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('stage,blocks', [(1, 3), (2, 2), (3, 1), (4, 1)])
def test_official_structure_deit_tiny(stage, blocks):
    # DeiT-T student, 224 px / patch 16: 1 + 196 tokens of width 192
    b = OFAViTBranch(192, 192, 1000, num_patches=196,
                     num_blocks=max(4 - stage, 1))
    assert len(b.blocks) == blocks
    assert len(b.mergers) == 1 and b.mergers[0].grid == 14
    assert isinstance(b.mergers[0].act, torch.nn.GELU)
    assert b.blocks[0].attn.num_heads == 4
    assert b.blocks[0].attn.qkv.bias is None
    assert b.blocks[0].ffn.layers[0][0].out_features == 4 * 192
    assert b.fc.in_features == 192
    assert b.fc.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert b.fc.bias.abs().sum() == 0


def test_official_structure_swin():
    # Swin-T student: stage widths 96..768, grids 56..7, no class token
    widths, grids = (96, 192, 384, 768), (56, 28, 14, 7)
    merges = [
        OFAViTBranch(c, 768, 1000, num_patches=g * g, num_tokens=0,
                     num_blocks=max(4 - s, 1)).mergers
        for s, (c, g) in enumerate(zip(widths, grids), 1)]
    assert [len(m) for m in merges] == [3, 2, 1, 0]
    first = merges[0]
    assert [m.grid for m in first] == [56, 28, 14]
    assert [m.reduction.in_features for m in first] == [384, 3072, 3072]
    # GELU on all merges but the last of several
    assert [type(m.act).__name__ for m in first] == ['GELU', 'GELU',
                                                     'Identity']
    assert type(merges[2][0].act).__name__ == 'GELU'
    b = OFAViTBranch(96, 768, 10, num_patches=56 * 56, num_tokens=0,
                     num_blocks=3)
    assert b(torch.randn(1, 56 * 56, 96)).shape == (1, 10)


def test_build_and_input_errors():
    with pytest.raises(ValueError, match='num_patches=197 is not a square'):
        OFAViTBranch(192, 192, 1000, num_patches=197, num_blocks=3)
    with pytest.raises(ValueError, match='num_tokens=2'):
        OFAViTBranch(192, 192, 1000, num_patches=196, num_blocks=3,
                     num_tokens=2)
    with pytest.raises(ValueError, match='set out_channels to 192'):
        OFAViTBranch(192, 384, 1000, num_patches=196, num_blocks=3)
    b = OFAViTBranch(16, 16, 10, num_patches=64, num_blocks=1)
    with pytest.raises(ValueError, match=r'\[B, 1 \+ 64, 16\]'):
        b(torch.randn(2, 64, 16))  # the class token is missing


def tiny_vit(num_layers=4):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=16, num_layers=num_layers,
                                num_heads=2, feedforward_channels=32),
                      img_size=32, patch_size=4),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=10,
                  in_channels=16, loss=dict(type='CrossEntropyLoss')))


def vit_student_cfg(layers=(0, 1, 2, 3)):
    """A tiny CNN teaches a 4-block ViT (img 32, patch 4: 1 + 64 tokens);
    each block is a stage; final_grid 2 gives two merges (8 -> 4 -> 2)."""
    return dict(
        taps={f's_stage{s}': f'student.backbone.layers.{i}'
              for s, i in enumerate(layers, 1)},
        connectors={
            f's_branch{s}': dict(type='OFAViTBranch', in_channels=16,
                                 out_channels=16, num_classes=10,
                                 num_patches=64, num_blocks=max(4 - s, 1),
                                 num_heads=2, final_grid=2,
                                 input=f's_stage{s}')
            for s in range(1, len(layers) + 1)},
        distill_losses=dict(
            **{f'loss_ofa_{s}': dict(
                type='OFALoss', eps=1.5,
                inputs=dict(preds_S=f's_branch{s}', preds_T='t_logits',
                            gt_labels='gt_labels'))
               for s in range(1, len(layers) + 1)},
            loss_ofa_kd=dict(type='OFALoss', eps=1.5,
                             inputs=dict(preds_S='s_logits',
                                         preds_T='t_logits',
                                         gt_labels='gt_labels'))))


def test_cnn_teacher_vit_student_values_and_gradients():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='SingleTeacherDistiller',
                              student=tiny_vit(), teacher=tiny_classifier(),
                              **vit_student_cfg()))
    # the runner's init_weights keeps the official branch initialisation
    # (mmpretrain's TransformerEncoderLayer would re-init its FFN)
    model.init_weights()
    ffn = model.connectors['s_branch1'].blocks[0].ffn.layers[1]
    assert ffn.bias.abs().sum() == 0
    assert ffn.weight.std().item() == pytest.approx(0.02, rel=0.3)
    inputs = torch.randn(4, 3, 32, 32,
                         generator=torch.Generator().manual_seed(1))
    samples = [DataSample().set_gt_label(i % 10) for i in range(4)]
    model.eval()
    tensors, _ = model.forward_tensors(inputs, samples)
    # the tap is block 1's tokens, class token included
    assert tensors['s_stage2'].shape == (4, 65, 16)
    torch.testing.assert_close(
        tensors['s_branch2'], model.connectors['s_branch2'](
            tensors['s_stage2']))
    losses = model.loss(inputs, samples)
    by_hand = OFALoss(eps=1.5)(tensors['s_branch1'], tensors['t_logits'],
                               tensors['gt_labels'])
    torch.testing.assert_close(losses['loss_ofa_1'], by_hand)
    model.train()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if k.startswith('loss_ofa')).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    for name, conn in model.connectors.items():
        assert all(p.grad is not None for p in conn.parameters()), name
    assert model.student.backbone.layers[0].attn.qkv.weight.grad.abs().sum(
    ) > 0


def test_a_stage_past_the_students_depth_is_refused():
    with pytest.raises(ValueError, match="no module 'student.backbone."
                       "layers.4'"):
        MODELS.build(dict(type='SingleTeacherDistiller', student=tiny_vit(),
                          teacher=tiny_classifier(),
                          **vit_student_cfg(layers=(0, 1, 2, 4))))


def test_cnn_teacher_vit_student_trains_two_iterations(tmp_path):
    from mmengine.config import Config

    from mmkd.engine import KDRunner
    from test_engine._tiny_configs import tiny_config  # noqa: E402

    text = tiny_config(tmp_path / 'work', distill=True, epochs=1, n_train=4,
                       batch=2, augment=False, val=False)
    text += (f'model.update(student={tiny_vit()!r}, '
             f'**{vit_student_cfg()!r})\n')
    path = tmp_path / 'ofa_vit.py'
    path.write_text(text)
    runner = KDRunner.from_cfg(Config.fromfile(str(path)))
    before = runner.model.connectors['s_branch1'].fc.weight.detach().clone()
    runner.train()
    assert runner.iter == 2
    assert not torch.equal(before,
                           runner.model.connectors['s_branch1'].fc.weight)


def test_swin_student_taps_the_last_block_of_each_stage():
    """A tiny 2-stage Swin student (img 32, patch 4: grids 8 and 4, widths
    16 and 32, no class token): each branch on the last block of a stage,
    before its downsampling; the branch width is the final width, 32."""
    torch.manual_seed(0)
    student = dict(
        type='ImageClassifier',
        backbone=dict(type='SwinTransformer',
                      arch=dict(embed_dims=16, depths=[2, 2],
                                num_heads=[2, 4]),
                      img_size=32, patch_size=4, window_size=4,
                      out_indices=(1, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=32,
                  loss=dict(type='CrossEntropyLoss')))
    stages = {1: (16, 64), 2: (32, 16)}
    model = MODELS.build(dict(
        type='SingleTeacherDistiller', student=student,
        teacher=tiny_classifier(),
        taps={f's_stage{s}': f'student.backbone.stages.{s - 1}.blocks.1'
              for s in stages},
        connectors={
            f's_branch{s}': dict(type='OFAViTBranch', in_channels=c,
                                 out_channels=32, num_classes=10,
                                 num_patches=n, num_tokens=0, num_blocks=1,
                                 final_grid=2, input=f's_stage{s}')
            for s, (c, n) in stages.items()},
        distill_losses={
            f'loss_ofa_{s}': dict(type='OFALoss', inputs=dict(
                preds_S=f's_branch{s}', preds_T='t_logits',
                gt_labels='gt_labels')) for s in stages}))
    assert [len(model.connectors[f's_branch{s}'].mergers)
            for s in stages] == [2, 1]
    inputs = torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    model.eval()
    tensors, _ = model.forward_tensors(inputs, samples)
    assert tensors['s_stage1'].shape == (2, 64, 16)
    assert tensors['s_stage2'].shape == (2, 16, 32)
    model.train()
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if k.startswith('loss_ofa')).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None
               for p in model.connectors.parameters())
    assert model.student.backbone.stages[0].blocks[0].attn.w_msa.qkv.weight\
        .grad.abs().sum() > 0
