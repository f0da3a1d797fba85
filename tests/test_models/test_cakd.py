"""CAKD: ViT taps, PCA/GL projectors, CAKDLoss, distiller, adversary."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.models import DistilledVisionTransformer, VisionTransformer
from mmpretrain.models.utils import MultiheadAttention
from mmpretrain.structures import DataSample

from mmkd.engine import (DiscriminatorOptimWrapperConstructor,
                         LossWeightRampHook)
from mmkd.models.algorithms.vit_taps import ViTAttentionTap
from mmkd.models.connectors import GLProjector, PCAProjector
from mmkd.models.connectors.cakd import relations, resample_to_grid
from mmkd.models.losses import CAKDLoss
from mmkd.registry import MODELS, TRANSFORMS

from conftest import tiny_classifier  # noqa: E402

ARCH = dict(embed_dims=32, num_layers=2, num_heads=4,
            feedforward_channels=64)


def vit(cls=VisionTransformer, **kwargs):
    torch.manual_seed(0)
    model = cls(arch=ARCH, img_size=32, patch_size=8, **kwargs)
    model.init_weights()
    model.eval()  # mmpretrain's ViT.train() returns None
    return model


def vit_classifier(arch='VisionTransformer', num_classes=10):
    return dict(
        type='ImageClassifier',
        backbone=dict(type=arch, arch=ARCH, img_size=32, patch_size=8),
        head=dict(type='DeiTClsHead' if arch.startswith('Distilled') else
                  'VisionTransformerClsHead', num_classes=num_classes,
                  in_channels=32, loss=dict(type='CrossEntropyLoss')))


def cakd_loss(mode='released-code', **kwargs):
    cfg = dict(type='CAKDLoss', student_channels=32, teacher_dims=32,
               teacher_heads=4, mode=mode,
               inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k',
                           t_v='t_v', t_featmap='t_featmap'))
    cfg.update(kwargs)
    return cfg


def distiller(mode='released-code', **kwargs):
    cfg = dict(type='CAKDDistiller',
               student=tiny_classifier(),
               teacher=vit_classifier(),
               taps=dict(feat_S='student.backbone.layer3'),
               distill_losses=dict(loss_cakd=cakd_loss(mode)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def batch(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 3, 32, 32, generator=g)
    labels = torch.randint(0, 10, (n, ), generator=g)
    return inputs, [DataSample().set_gt_label(int(y)) for y in labels]


# ---------------------------------------------------------------- taps
@pytest.mark.parametrize('cls,extra', [(VisionTransformer, 1),
                                       (DistilledVisionTransformer, 2)])
def test_vit_tap_matches_manual_attention(cls, extra):
    model = vit(cls, out_type='raw')
    tap = ViTAttentionTap(model)
    assert tap.num_extra_tokens == extra
    attn_mod = model.layers[-1].attn
    seen = {}
    handle = attn_mod.register_forward_hook(
        lambda m, a, o: seen.update(x=a[0], out=o))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), tap.recording():
        out = model(x)[0]
    handle.remove()
    t = tap.tensors()
    # manual recomputation of the last block's attention from its input
    with torch.no_grad():
        qkv = F.linear(seen['x'], attn_mod.qkv.weight, attn_mod.qkv.bias)
        B, N, _ = qkv.shape
        q, k, v = qkv.view(B, N, 3, 4, 8).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) / 8**0.5).softmax(-1)
        y = attn_mod.proj((attn @ v).transpose(1, 2).reshape(B, N, 32))
    assert N == extra + 16
    torch.testing.assert_close(t['attn'], attn)
    torch.testing.assert_close(t['q'], q[:, :, extra:])
    torch.testing.assert_close(t['k'], k[:, :, extra:])
    torch.testing.assert_close(t['v'], v[:, :, extra:])
    torch.testing.assert_close(y, seen['out'])  # the block used this map
    torch.testing.assert_close(t['tokens'], out[:, extra:])
    torch.testing.assert_close(t['extra_tokens'], out[:, :extra])
    assert t['featmap'].shape == (2, 32, 4, 4)
    torch.testing.assert_close(t['featmap'].flatten(2).transpose(1, 2),
                               t['tokens'])


def test_vit_tap_follows_qk_scale():
    """mmpretrain's qk_scale path scales Q K^T differently; the tap's
    attention must still be the one the block used."""
    model = vit(out_type='raw')
    attn_mod = model.layers[-1].attn
    # ViT's layers do not take qk_scale; give the block the attention
    # function a MultiheadAttention(qk_scale=...) builds
    attn_mod.scaled_dot_product_attention = MultiheadAttention(
        32, 4, qk_scale=0.5).scaled_dot_product_attention
    tap = ViTAttentionTap(model)
    seen = {}
    handle = attn_mod.register_forward_hook(
        lambda m, a, o: seen.update(x=a[0], out=o))
    with torch.no_grad(), tap.recording():
        model(torch.randn(1, 3, 32, 32))
    handle.remove()
    attn = tap.tensors()['attn']
    with torch.no_grad():
        qkv = attn_mod.qkv(seen['x']).view(1, 17, 3, 4, 8)
        v = qkv[:, :, 2].transpose(1, 2)
        y = attn_mod.proj((attn @ v).transpose(1, 2).reshape(1, 17, 32))
    torch.testing.assert_close(y, seen['out'])


def test_vit_tap_rejects_a_cnn():
    cnn = MODELS.build(tiny_classifier()).backbone
    with pytest.raises(TypeError, match='not a Vision Transformer'):
        ViTAttentionTap(cnn)


# ---------------------------------------------------------------- projectors
@pytest.mark.parametrize('mode', ['paper', 'released-code'])
@pytest.mark.parametrize('heads,grid,student_hw', [(1, (4, 4), (8, 8)),
                                                   (4, (7, 7), (14, 14)),
                                                   (8, (3, 5), (4, 4))])
def test_pca_shapes(mode, heads, grid, student_hw):
    proj = PCAProjector(16, 32, heads, mode=mode).eval()
    attn, vv = proj(torch.randn(2, 16, *student_hw), grid)
    n = grid[0] * grid[1]
    shape = (2, heads, n, n) if mode == 'paper' else (2, n, n)
    assert attn.shape == vv.shape == shape
    if mode == 'paper':
        torch.testing.assert_close(attn.sum(-1), torch.ones(2, heads, n))


def test_pca_replacement_rate_in_train_only():
    torch.manual_seed(0)
    proj = PCAProjector(8, 16, 2, mode='paper', replace_prob=0.5)
    x = torch.randn(1, 8, 4, 4)
    qkv_T = [torch.randn(1, 2, 16, 8) for _ in range(3)]
    counts = np.zeros(3)
    trials = 400
    for _ in range(trials):
        proj(x, (4, 4), qkv_T)
        counts += proj.last_replaced
    assert np.all(np.abs(counts / trials - 0.5) < 0.1), counts
    # a replaced Q really is the teacher's: all replaced = teacher relations
    proj.replace_prob = 1.0
    attn, vv = proj(x, (4, 4), qkv_T)
    ref = relations(*qkv_T, mode='paper')
    torch.testing.assert_close(attn, ref[0])
    torch.testing.assert_close(vv, ref[1])
    proj.eval()
    for _ in range(50):
        proj(x, (4, 4), qkv_T)
        assert proj.last_replaced == (False, False, False)


def test_pca_errors():
    with pytest.raises(ValueError, match='mode'):
        PCAProjector(8, 16, 2, mode='bogus')
    with pytest.raises(ValueError, match='divide'):
        PCAProjector(8, 16, 3)
    proj = PCAProjector(8, 16, 2, mode='paper')
    with pytest.raises(ValueError, match='embed_dims and num_heads'):
        proj(torch.randn(1, 8, 4, 4), (4, 4),
             [torch.randn(1, 4, 16, 4) for _ in range(3)])


@pytest.mark.parametrize('grouping', ['residue', 'block'])
@pytest.mark.parametrize('grid,window', [((14, 14), 4), ((7, 7), 4),
                                         ((4, 6), (2, 3)), ((5, 5), 1)])
def test_gl_shapes_and_groups(grouping, grid, window):
    gl = GLProjector(8, 12, window_size=window, grouping=grouping)
    out = gl(torch.randn(2, 8, 8, 8), grid)
    assert out.shape == (2, grid[0] * grid[1], 12)
    groups = gl.group_index(grid)
    assert set(groups.tolist()) == set(range(len(gl.linears)))
    # each token is its group's Linear applied to the resampled token
    tokens = resample_to_grid(torch.randn(1, 8, 8, 8), grid)
    out = gl(tokens, grid)
    flat = tokens.flatten(2).transpose(1, 2)
    for n in (0, grid[0] * grid[1] - 1):
        torch.testing.assert_close(out[0, n],
                                   gl.linears[int(groups[n])](flat[0, n]))


def test_gl_errors():
    with pytest.raises(ValueError, match='grouping'):
        GLProjector(8, 8, grouping='random')
    with pytest.raises(ValueError, match='fewer rows'):
        GLProjector(8, 8, window_size=4, grouping='block')(
            torch.randn(1, 8, 4, 4), (2, 2))
    with pytest.raises(ValueError, match='in_channels'):
        GLProjector(8, 8)(torch.randn(1, 16, 4, 4), (4, 4))


def test_release_layout_residue_groups():
    gl = GLProjector(8, 8, window_size=4)
    groups = gl.group_index((14, 14)).view(14, 14)
    assert groups[0, 0] == groups[4, 8] == 0 and groups[1, 2] == 6
    assert len(gl.linears) == 16


# ---------------------------------------------------------------- loss
def test_cakd_loss_released_values():
    loss = CAKDLoss(32, teacher_dims=32, teacher_heads=4)
    feats = torch.randn(2, 32, 8, 8)
    q, k, v = (torch.randn(2, 4, 16, 8) for _ in range(3))
    featmap = torch.randn(2, 32, 4, 4)
    out = loss(feats, q, k, v, featmap)
    s_q, s_k, s_v = loss.pca.project(feats, (4, 4))
    a_s = (s_q @ s_k.transpose(-2, -1)).mean(1) / 8**0.5
    a_t = (q @ k.transpose(-2, -1)).mean(1) / 8**0.5
    torch.testing.assert_close(out['pca_attn'], 0.2 * F.mse_loss(a_s, a_t))
    tokens = featmap.flatten(2).transpose(1, 2)
    torch.testing.assert_close(
        out['gl'], 0.05 * F.mse_loss(loss.gl(feats, (4, 4)), tokens))
    loss.set_loss_weight(0.5)
    out2 = loss(feats, q, k, v, featmap)
    torch.testing.assert_close(out2['pca_vv'], 0.5 * out['pca_vv'])


def test_cakd_loss_errors():
    with pytest.raises(ValueError, match='mode'):
        CAKDLoss(32, 32, 4, mode='nope')
    with pytest.raises(ValueError, match='must equal'):
        CAKDLoss(32, 32, 4, mode='paper', pca=dict(num_heads=2))
    with pytest.raises(ValueError, match='pooled_channels'):
        CAKDLoss(32, 32, 4, cls_weight=0.1)
    loss = CAKDLoss(32, teacher_dims=64, teacher_heads=4)
    with pytest.raises(ValueError, match='teacher_dims=32'):
        loss(torch.randn(1, 32, 4, 4), *(torch.randn(1, 4, 16, 8)
                                          for _ in range(3)),
             torch.randn(1, 32, 4, 4))


# ---------------------------------------------------------------- distiller
def test_distiller_builds_and_trains_projectors():
    model = distiller(
        distill_losses=dict(loss_cakd=cakd_loss(
            cls_weight=0.1, pooled_channels=32, logit_weight=0.1,
            inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k', t_v='t_v',
                        t_featmap='t_featmap', pooled_S='pool_S',
                        t_cls='t_cls', preds_S='s_logits',
                        preds_T='t_logits'))),
        taps=dict(feat_S='student.backbone.layer3',
                  pool_S='student.head.fc:input'))
    model.train()
    losses = model.loss(*batch())
    assert set(losses) == {
        'student.loss', 'loss_cakd.pca_attn', 'loss_cakd.pca_vv',
        'loss_cakd.gl', 'loss_cakd.cls', 'loss_cakd.logits'
    }
    sum(losses.values()).backward()
    assert model.distill_losses.loss_cakd.pca.qkv.weight.grad is not None
    assert model.distill_losses.loss_cakd.gl.linears[0].weight.grad \
        is not None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_distiller_build_time_errors():
    with pytest.raises(TypeError, match='not a Vision Transformer'):
        distiller(teacher=tiny_classifier())
    with pytest.raises(ValueError, match='teacher_dims'):
        distiller(distill_losses=dict(loss_cakd=cakd_loss(teacher_dims=48)))
    with pytest.raises(ValueError, match='in_channels'):
        distiller(distill_losses=dict(
            loss_cakd=cakd_loss(student_channels=16)))


def test_deit_teacher_gives_cls_and_dist_tokens():
    model = distiller(teacher=vit_classifier('DistilledVisionTransformer'))
    model.eval()
    with torch.no_grad():
        t = model.teacher_side.forward(torch.randn(2, 3, 32, 32))
    assert t['t_cls'].shape == t['t_dist'].shape == (2, 32)
    assert t['t_q'].shape == (2, 4, 16, 8)
    assert t['t_attn'].shape == (2, 4, 18, 18)


def test_multi_view_teacher_sees_t_img():
    model = distiller()
    model.eval()
    inputs, samples = batch()
    t_view = torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
    for s in samples:
        s.set_field(t_view, 't_img')
    seen = {}
    handle = model.teacher.backbone.register_forward_pre_hook(
        lambda m, a: seen.setdefault('x', a[0]))
    model.loss(inputs, samples)
    handle.remove()
    expected = model.data_preprocessor(dict(inputs=[t_view, t_view]),
                                       False)['inputs']
    torch.testing.assert_close(seen['x'], expected)


def test_multi_view_transform():
    t = TRANSFORMS.build(dict(
        type='CAKDMultiView',
        student_pipeline=[dict(type='RandomFlip', prob=1.0)],
        teacher_pipeline=[]))
    img = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)
    out = t(dict(img=img.copy()))
    assert np.array_equal(out['img'], img[:, ::-1])
    assert np.array_equal(out['t_img'].permute(1, 2, 0).numpy(), img)
    bad = TRANSFORMS.build(dict(
        type='CAKDMultiView',
        student_pipeline=[dict(type='RandomCrop', crop_size=16)]))
    with pytest.raises(ValueError, match='same size'):
        bad(dict(img=img.copy()))


# ---------------------------------------------------------------- adversary
def adv_distiller(detach=False, mode='released-code'):
    return distiller(
        mode,
        distill_losses=dict(loss_cakd=cakd_loss(mode)),
        discriminator=dict(type='AttentionDiscriminator',
                           in_channels=1 if mode != 'paper' else 4,
                           base_channels=4),
        adv_weight=1.0, detach_adversarial=detach)


@pytest.mark.parametrize('detach', [False, True])
def test_adversarial_gradient_reaches_student(detach):
    model = adv_distiller(detach)
    model.train()
    losses = model.loss(*batch())
    assert 'loss_adv' in losses
    if detach:  # the release's form: a constant, nothing to train
        assert not losses['loss_adv'].requires_grad
        return
    student_params = [p for p in model.student.parameters()]
    grads = torch.autograd.grad(losses['loss_adv'],
                                student_params + list(
                                    model.distill_losses.parameters()),
                                allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads[:len(
        student_params)])
    # the student's term never trains the discriminator
    assert all(not p.requires_grad or p.grad is None
               for p in model.discriminator.parameters())
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_train_step_updates_both_optimizers():
    model = adv_distiller(mode='paper')
    model.train()
    optim = DiscriminatorOptimWrapperConstructor(dict(
        student=dict(optimizer=dict(type='SGD', lr=0.1)),
        discriminator=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
    student_ids = {id(p) for g in optim['student'].param_groups
                   for p in g['params']}
    disc = list(model.discriminator.parameters())
    assert not student_ids & {id(p) for p in disc}
    assert id(model.distill_losses.loss_cakd.pca.q.weight) in student_ids
    before_d = [p.detach().clone() for p in disc]
    before_s = model.student.backbone.stem[0].weight.detach().clone()
    inputs, samples = batch()
    log = model.train_step(dict(inputs=list(inputs), data_samples=samples),
                           optim)
    assert 'disc.loss' in log and 'loss_adv' in log
    assert any(not torch.equal(a, b) for a, b in zip(before_d, disc))
    assert not torch.equal(before_s, model.student.backbone.stem[0].weight)
    with pytest.raises(TypeError, match='two optimizers'):
        model.train_step(
            dict(inputs=list(inputs), data_samples=samples),
            OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))


def test_discriminator_build_time_errors():
    with pytest.raises(ValueError, match='in_channels=4'):
        distiller('paper', discriminator=dict(
            type='AttentionDiscriminator', in_channels=1))
    with pytest.raises(ValueError, match='no distill loss returns'):
        distiller(distill_losses={}, discriminator=dict(
            type='AttentionDiscriminator'))
    with pytest.raises(ValueError, match="'student' and 'discriminator'"):
        DiscriminatorOptimWrapperConstructor(dict(
            generator=dict(optimizer=dict(type='SGD', lr=0.1))))
    with pytest.raises(TypeError, match='has no discriminator'):
        DiscriminatorOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1)),
            discriminator=dict(optimizer=dict(type='SGD', lr=0.1))))(
                distiller())


def test_ramp_hook():
    hook = LossWeightRampHook()
    assert [hook.weight(e) for e in (0, 24, 25, 50, 75, 100)] == [
        0, 0, 0, pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.2)
    ]
    model = adv_distiller()

    class Runner:
        epoch = 50

    Runner.model = model
    hook.before_train_epoch(Runner)
    assert model.distill_losses.loss_cakd.loss_weight == pytest.approx(0.1)
    assert model.adv_ramp == pytest.approx(0.1)
    with pytest.raises(ValueError, match='start_epoch'):
        LossWeightRampHook(start_epoch=10, end_epoch=5)
    Runner.model = MODELS.build(tiny_classifier())
    with pytest.raises(TypeError, match='set_loss_weight'):
        hook.before_train(Runner)


def test_checkpoint_roundtrip_keeps_projectors():
    model = adv_distiller()
    state = copy.deepcopy(model.state_dict())
    assert any(k.startswith('distill_losses.loss_cakd.gl.') for k in state)
    assert any(k.startswith('discriminator.') for k in state)
    model2 = adv_distiller()
    model2.load_state_dict(state)
