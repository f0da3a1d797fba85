"""DML, MLKD, BYOT and the learnable-temperature / logit losses (CTKD, LS,
WKD-L) in 2 CPU processes (tools/dist_train.sh, gloo) against one process.

One helper trains a tiny config either way: GroupNorm everywhere (no batch
statistics), no random augmentation, an ordered index list and no shuffle,
so rank ``r`` of 2 with batch ``B`` reads positions ``r, r + 2, ...`` of
each block of ``2B`` indices that one process with batch ``2B`` reads, and
DDP averages the two ranks' gradients.
"""
import os
import os.path as osp
import subprocess

import torch
from mmengine.config import Config

from mmkd.engine import KDRunner
from mmkd.utils.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT, free_port, tiny_classifier

BASE = osp.join(REPO_ROOT, 'configs', '_base_')
GN = dict(type='GN', num_groups=4)
INDICES = list(range(0, 5000, 211))[:16]  # all ten classes, in order


def _config(work_dir, model, batch, iters, pipeline=None, indices=INDICES,
            accumulate=1):
    pipeline = pipeline or [dict(type='PackInputs')]
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(
    batch_size={batch}, num_workers=0,
    dataset=dict(indices={indices!r}, pipeline={pipeline!r}),
    sampler=dict(type='DefaultSampler', shuffle=False))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                    weight_decay=5e-4),
                     accumulative_counts={accumulate})
train_cfg = dict(by_epoch=False, max_iters={iters})
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval={iters}))
randomness = dict(seed=0)
work_dir = {str(work_dir)!r}
"""


def train(tmp_path, name, model, nproc, batch, iters=2, **kwargs):
    """The final weights of ``model`` trained for ``iters`` iterations in
    ``nproc`` processes (2: ``tools/dist_train.sh``) of batch ``batch``."""
    work_dir = tmp_path / name
    cfg = tmp_path / f'{name}.py'
    cfg.write_text(_config(work_dir, model, batch, iters, **kwargs))
    if nproc == 1:
        runner = KDRunner.from_cfg(Config.fromfile(str(cfg)))
        runner.train()
        return runner.model.state_dict()
    env = dict(os.environ, PORT=str(free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO_ROOT)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), str(cfg),
         str(nproc)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log
    with open(work_dir / 'last_checkpoint') as f:
        return load_checkpoint_file(f.read().strip())['state_dict']


def assert_same(a, b, prefix=''):
    keys = [k for k in a if k.startswith(prefix)]
    assert keys and set(a) == set(b)
    for key in keys:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5,
                                   msg=key)


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a
               if a[k].is_floating_point())


def test_dml_two_processes_match_one(tmp_path):
    """CE and KL are means over the batch: 2 x 4 gives 1 x 8's weights,
    for both peers."""
    peer = tiny_classifier(norm_cfg=GN)
    model = dict(type='DMLDistiller', peers=dict(a=peer, b=peer))
    two = train(tmp_path, 'two', model, 2, batch=4)
    one = train(tmp_path, 'one', model, 1, batch=8)
    assert any(k.startswith('peers.b.') for k in one)
    assert_same(two, one)


def test_mlkd_two_processes_are_per_process_batches(tmp_path):
    """MLKD's batch- and class-level terms compare Gram matrices of the
    batch, so in DDP each process computes them over its own batch (as a
    single GPU of batch ``B`` would; no all-gather): 2 x 4 is *not* 1 x 8.
    What holds: 2 x 4 equals one process of batch 4 accumulating the
    gradients of the same two per-rank batches (``accumulative_counts=2``,
    which halves each loss as DDP's averaging does)."""
    model = dict(
        type='MLKDDistiller', student=tiny_classifier(norm_cfg=GN),
        teacher=tiny_classifier(norm_cfg=GN), student_loss_weight=0.1,
        distill_losses=dict(loss_mlkd=dict(
            type='MLKDLoss', tau=4, loss_weight=0.9, mode='paper',
            inputs=dict(preds_S='s_logits', preds_T='t_logits',
                        preds_S_strong='s_logits_strong',
                        preds_T_strong='t_logits_strong'))))
    pipeline = [dict(type='ExtraView', key='img_strong', pipeline=[
        dict(type='RandomFlip', prob=1.0, direction='horizontal')]),
        dict(type='PackInputs', algorithm_keys=['img_strong'])]
    two = train(tmp_path, 'two', model, 2, batch=4, pipeline=pipeline)
    # rank 0 reads INDICES[0:8:2], rank 1 INDICES[1:8:2], then 8:16
    rank_order = [INDICES[b + r + j] for b in (0, 8) for r in (0, 1)
                  for j in (0, 2, 4, 6)]
    acc = train(tmp_path, 'acc', model, 1, batch=4, iters=4,
                pipeline=pipeline, indices=rank_order, accumulate=2)
    assert_same(two, acc, prefix='student.')
    one = train(tmp_path, 'one', model, 1, batch=8, pipeline=pipeline)
    student = {k: v for k, v in two.items() if k.startswith('student.')}
    assert max_diff(student, one) > 10 * max(max_diff(student, acc), 1e-6)


def test_byot_two_processes_match_one_with_half_the_summed_term(tmp_path):
    """CE and KL are means over the batch, but BYOT's feature term (as the
    reimplementation everyone uses) is a *sum* over the batch: each
    process sums over its ``B`` samples and DDP averages, so 2 x B trains
    like 1 x 2B with the feature weight halved (per-process batch, not the
    global one, sets the term's scale)."""
    def byot(feat_weight):
        return dict(
            type='SelfDistiller', student=tiny_classifier(norm_cfg=GN),
            student_loss_weight=0.9,
            taps=dict(feat2='student.backbone.layer2',
                      feat3='student.backbone.layer3'),
            connectors=dict(
                b2_conv=dict(type='ConvConnector', in_channels=16,
                             out_channels=32, kernel_size=3, stride=2,
                             norm_cfg=GN, act=True, input='feat2'),
                b2_fc=dict(type='LinearConnector', in_channels=32,
                           out_channels=10, input='b2_conv')),
            distill_losses=dict(
                loss_ce_b2=dict(type='PeerCELoss', loss_weight=0.9,
                                inputs=dict(preds='b2_fc',
                                            gt_labels='gt_labels')),
                loss_kd_b2=dict(type='KDLoss', tau=3., loss_weight=0.1,
                                inputs=dict(preds_S='b2_fc',
                                            preds_T='s_logits')),
                loss_feat_b2=dict(type='HintLoss', reduction='sum',
                                  loss_weight=feat_weight,
                                  inputs=dict(feats_S='b2_conv',
                                              feats_T='feat3'))))

    two = train(tmp_path, 'two', byot(2e-3), 2, batch=4)
    half = train(tmp_path, 'half', byot(1e-3), 1, batch=8)
    assert_same(two, half)
    same = train(tmp_path, 'same', byot(2e-3), 1, batch=8)
    assert max_diff(two, same) > 1e-3


def test_ctkd_ls_and_wkd_two_processes_match_one(tmp_path):
    """KD on Z-scored logits (LS, torch's unbiased std) with CTKD's global
    temperature (reversal weight 1 from the first iteration), plus WKD-L
    under a non-uniform cost: every term is a per-sample value averaged
    over the batch, so 2 x 4 gives 1 x 8's weights, the temperature
    parameter included (DDP averages its reversed gradient too)."""
    cost = [[abs(i - j) / 9 for j in range(10)] for i in range(10)]
    model = dict(
        type='SingleTeacherDistiller', student=tiny_classifier(norm_cfg=GN),
        teacher=tiny_classifier(norm_cfg=GN), student_loss_weight=0.1,
        distill_losses=dict(
            loss_kd=dict(type='KDLoss', tau=2, loss_weight=9,
                         logit_stand='code',
                         temperature=dict(type='GlobalTemperature',
                                          lambda_start=1., lambda_end=1.),
                         inputs=dict(preds_S='s_logits',
                                     preds_T='t_logits')),
            loss_wkd=dict(type='WKDLogitLoss', tau=4., loss_weight=10.,
                          cost_matrix=cost,
                          inputs=dict(preds_S='s_logits', preds_T='t_logits',
                                      gt_labels='gt_labels'))))
    two = train(tmp_path, 'two', model, 2, batch=4)
    one = train(tmp_path, 'one', model, 1, batch=8)
    raw = 'distill_losses.loss_kd.temperature.raw'
    assert one[raw].item() != 1.0  # the temperature trained
    assert_same(two, one)
