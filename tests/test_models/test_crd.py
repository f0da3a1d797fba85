"""CRD: the NCE loss, the memory bank, gradients, the sampling dataset, and
a short run through the runner (with its misconfiguration checks)."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmkd.datasets import CRDDataset
from mmkd.engine import KDRunner
from mmkd.models.losses import CRDLoss
from mmkd.registry import MODELS

from conftest import REPO_ROOT, tiny_classifier

BASE = osp.join(REPO_ROOT, 'configs', '_base_')
# 20 images of each of the 10 classes (CIFAR10Mini is sorted by class)
SPREAD = list(range(0, 5000, 25))


def _reference_crd(loss, f_s, f_t, idx, contrast_idx, z_s, z_t):
    """A plain loop over anchors and bank rows, written from the paper."""
    e_s = F.normalize(f_s @ loss.embed_s.linear.weight.T +
                      loss.embed_s.linear.bias, dim=1)
    e_t = F.normalize(f_t @ loss.embed_t.linear.weight.T +
                      loss.embed_t.linear.bias, dim=1)
    k, pn, eps = contrast_idx.shape[1] - 1, 1 / loss.num_data, 1e-7
    total = 0.0
    for anchor, bank, z in ((e_s, loss.memory_t, z_s),
                            (e_t, loss.memory_s, z_t)):
        side = 0.0
        for i in range(len(idx)):
            for col, j in enumerate(contrast_idx[i].tolist()):
                p = math.exp(float(bank[j] @ anchor[i]) / loss.nce_t) / z
                if col == 0:
                    side += math.log(p / (p + k * pn + eps))
                else:
                    side += math.log(k * pn / (p + k * pn + eps))
        total += -side / len(idx)
    return loss.loss_weight * total


def test_nce_loss_value_matches_a_plain_implementation():
    torch.manual_seed(0)
    loss = CRDLoss(s_dim=6, t_dim=5, num_data=20, feat_dim=8, nce_k=4,
                   loss_weight=0.8).eval()
    loss.memory_s.copy_(F.normalize(torch.randn(20, 8), dim=1))
    loss.memory_t.copy_(F.normalize(torch.randn(20, 8), dim=1))
    loss.z_s.fill_(3.5)
    loss.z_t.fill_(7.0)
    f_s, f_t = torch.randn(3, 6), torch.randn(3, 5)
    idx = torch.tensor([2, 7, 11])
    contrast_idx = torch.cat([idx[:, None], torch.randint(0, 20, (3, 4))], 1)
    with torch.no_grad():
        got = loss(f_s, f_t, idx, contrast_idx)
        want = _reference_crd(loss, f_s, f_t, idx, contrast_idx, 3.5, 7.0)
    assert got.shape == torch.Size([])
    assert got.item() == pytest.approx(want, rel=1e-5)

    # Z: estimated on the first training batch as mean(exp(s / tau)) * n,
    # then fixed
    loss.train()
    loss.z_s.fill_(-1)
    loss.z_t.fill_(-1)
    e_s = loss.embed_s(f_s).detach()
    rows = loss.memory_t[contrast_idx]
    z_s = torch.exp((rows @ e_s[:, :, None]).squeeze(2) / 0.07).mean() * 20
    loss(f_s, f_t, idx, contrast_idx)
    torch.testing.assert_close(loss.z_s, z_s)
    z_before = loss.z_t.clone()
    loss(torch.randn(3, 6), torch.randn(3, 5), idx, contrast_idx)
    assert torch.equal(loss.z_t, z_before) and loss.z_t > 0
    # without contrast_idx, K uniform negatives are drawn
    assert torch.isfinite(loss(f_s, f_t, idx))


def test_memory_update_rule_and_no_update_in_eval():
    loss = CRDLoss(s_dim=4, t_dim=4, num_data=6, feat_dim=4, nce_k=3,
                   nce_m=0.5)
    for embed in (loss.embed_s, loss.embed_t):
        embed.linear.weight.data.copy_(torch.eye(4))
        embed.linear.bias.data.zero_()
    e = torch.eye(4)
    loss.memory_s.copy_(torch.stack([e[0]] * 6))
    loss.memory_t.copy_(torch.stack([e[2]] * 6))
    before_s, before_t = loss.memory_s.clone(), loss.memory_t.clone()
    feats = torch.stack([e[1], 3 * e[1]])  # embeddings are normalised
    idx = torch.tensor([4, 1])

    loss.eval()
    loss(feats, feats, idx)
    assert torch.equal(loss.memory_s, before_s)
    assert torch.equal(loss.memory_t, before_t)
    assert loss.z_s.item() == -1 and loss.z_t.item() == -1

    loss.train()
    loss(feats, feats, idx)
    r = 1 / math.sqrt(2)
    for bank, before, old in ((loss.memory_s, before_s, e[0]),
                              (loss.memory_t, before_t, e[2])):
        # normalise(0.5 * old + 0.5 * e1) on the batch's rows only
        want = before.clone()
        want[[4, 1]] = r * (old + e[1])
        torch.testing.assert_close(bank, want)


def _distiller(num_data=64, with_contrast=True):
    inputs = dict(feats_S='s_feat', feats_T='t_feat', sample_idx='sample_idx')
    if with_contrast:
        inputs['contrast_idx'] = 'contrast_idx'
    return dict(
        type='SingleTeacherDistiller', student=tiny_classifier(),
        teacher=tiny_classifier(widths=(16, 32, 64)),
        taps=dict(s_feat='student.head.fc:input',
                  t_feat='teacher.head.fc:input'),
        distill_losses=dict(loss_crd=dict(
            type='CRDLoss', s_dim=32, t_dim=64, num_data=num_data, nce_k=16,
            loss_weight=0.8, inputs=inputs)))


def test_gradients_reach_student_and_both_embeds_not_the_teacher(
        monkeypatch):
    loss = CRDLoss(s_dim=6, t_dim=5, num_data=20, feat_dim=8, nce_k=4)
    f_s = torch.randn(3, 6, requires_grad=True)
    f_t = torch.randn(3, 5, requires_grad=True)
    loss(f_s, f_t, torch.tensor([0, 5, 9])).backward()
    assert f_s.grad is not None and f_s.grad.abs().sum() > 0
    assert f_t.grad is None
    for embed in (loss.embed_s, loss.embed_t):
        assert embed.linear.weight.grad.abs().sum() > 0

    # in the distiller: the build-time dry run leaves bank and Z alone, a
    # training step updates them; the teacher gets no gradient
    updates = []
    update = CRDLoss._update
    monkeypatch.setattr(CRDLoss, '_update',
                        lambda self, *a: updates.append(1) or update(self, *a))
    model = MODELS.build(_distiller(with_contrast=False))
    crd = model.distill_losses.loss_crd
    assert not updates and crd.z_s.item() == -1
    model.train()
    g = torch.Generator().manual_seed(0)
    samples = [DataSample(metainfo=dict(sample_idx=i)).set_gt_label(i % 10)
               for i in range(4)]
    losses = model.loss(torch.randn(4, 3, 32, 32, generator=g), samples)
    sum(losses.values()).backward()
    assert len(updates) == 2 and crd.z_s.item() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    assert crd.embed_t.linear.weight.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.student.parameters())


def _mini(**kwargs):
    return dict(type='CIFAR10Mini', indices=SPREAD,
                pipeline=[dict(type='PackInputs')], **kwargs)


def test_crd_dataset_exact_and_relax_modes():
    exact = CRDDataset(_mini(), nce_k=16)
    labels = exact.get_gt_labels()
    assert len(exact) == 200 and exact.metainfo['classes'][3] == 'cat'
    for i in (0, 57, 199):
        sample = exact[i]['data_samples']
        c = sample.contrast_idx
        assert c.shape == (17, ) and c.dtype == np.int64
        assert c[0] == i == sample.sample_idx
        assert (labels[c[1:]] != labels[i]).all()
        assert len(set(c[1:].tolist())) == 16  # without replacement
    # the same draws as the reference's per-class negative lists
    negatives = [np.flatnonzero(labels != y) for y in range(10)]
    np.random.seed(3)
    got = exact.draw(57)
    np.random.seed(3)
    want = np.random.choice(negatives[labels[57]], 16, replace=False)
    np.testing.assert_array_equal(got[1:], want)

    # relax: a random same-class positive, then other-class negatives, in
    # the reference's draw order
    relax = CRDDataset(exact.dataset, nce_k=16, mode='relax')
    positives = [np.flatnonzero(labels == y) for y in range(10)]
    for i in (0, 42, 199):
        c = relax[i]['data_samples'].contrast_idx
        assert labels[c[0]] == labels[i]
        assert (labels[c[1:]] != labels[i]).all()
    np.random.seed(5)
    got = relax.draw(42)
    np.random.seed(5)
    want_pos = np.random.choice(positives[labels[42]], 1)[0]
    want_neg = np.random.choice(negatives[labels[42]], 16, replace=False)
    assert got[0] == want_pos
    np.testing.assert_array_equal(got[1:], want_neg)
    plain = CRDDataset(exact.dataset, is_sample=False)
    assert 'contrast_idx' not in plain[0]['data_samples']
    with pytest.raises(ValueError, match='one class'):
        # the first 8 stored images: all airplanes (an integer indices=8
        # would be class-balanced)
        CRDDataset(dict(type='CIFAR10Mini', indices=list(range(8))),
                   nce_k=4)


def _config_text(work_dir, wrap=True, num_data=64):
    model = _distiller(num_data=num_data)
    dataset = dict(type='CIFAR10Mini', indices=SPREAD[::3][:64],
                   pipeline=[dict(type='PackInputs')])
    if wrap:
        dataset = dict(_delete_=True, type='CRDDataset', nce_k=16,
                       dataset=dataset)
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(batch_size=16, num_workers=0, dataset={dataset!r},
                        sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                    weight_decay=5e-4))
train_cfg = dict(by_epoch=True, max_epochs=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = dict(seed=0)
work_dir = {str(work_dir)!r}
"""


def _runner(tmp_path, **kwargs):
    path = tmp_path / 'crd_cfg.py'
    path.write_text(_config_text(tmp_path / 'work', **kwargs))
    return KDRunner.from_cfg(Config.fromfile(str(path)))


def test_crd_trains_one_epoch_with_the_runner(tmp_path):
    runner = _runner(tmp_path)
    crd = runner.model.distill_losses.loss_crd
    bank = crd.memory_s.clone()
    runner.train()
    assert runner.iter == 4
    changed = (crd.memory_s != bank).any(1)
    assert changed.all() and crd.z_s.item() > 0 and crd.z_t.item() > 0
    state = torch.load(tmp_path / 'work' / 'epoch_1.pth',
                       weights_only=False)['state_dict']
    torch.testing.assert_close(state['distill_losses.loss_crd.memory_t'],
                               crd.memory_t)


@pytest.mark.parametrize('wrap, num_data, message', [
    (False, 64, 'CRDDataset'),
    (True, 5000, 'set num_data=64'),
])
def test_misconfigured_crd_fails_before_training(tmp_path, wrap, num_data,
                                                 message):
    runner = _runner(tmp_path, wrap=wrap, num_data=num_data)
    with pytest.raises(ValueError, match=message):
        runner.train()
    assert runner.iter == 0
