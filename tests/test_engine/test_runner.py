"""KDRunner: exact resume on CPU, and 2-process CPU (gloo) training that
matches one process with the same global batch."""
import json
import os
import os.path as osp
import random
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmkd.engine import KDRunner
from mmkd.utils.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT
from test_engine._tiny_configs import write_config


class _Interrupt(Exception):
    pass


class _InterruptAt(Hook):
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def before_train_epoch(self, runner):
        if runner.epoch == self.epoch:
            raise _Interrupt()


def _train(cfg_path, work_dir, resume=False, hook=None):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    cfg.resume = resume
    runner = KDRunner.from_cfg(cfg)
    if hook is not None:
        runner.register_hook(hook)
    runner.train()
    return runner


def _final_state(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return load_checkpoint_file(f.read().strip())['state_dict']


@pytest.mark.parametrize('distill', [False, True])
def test_interrupted_and_resumed_run_ends_with_the_same_weights(
        tmp_path, distill):
    cfg_path = write_config(tmp_path / 'cfg.py', work_dir=tmp_path / 'x',
                            distill=distill, epochs=3, val=False)
    _train(cfg_path, tmp_path / 'full')
    with pytest.raises(_Interrupt):
        _train(cfg_path, tmp_path / 'cut', hook=_InterruptAt(2))
    _train(cfg_path, tmp_path / 'cut', resume=True)
    full, resumed = _final_state(tmp_path / 'full'), _final_state(
        tmp_path / 'cut')
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.equal(full[key], resumed[key]), key
    # and the weights really moved during the resumed epochs
    epoch2 = load_checkpoint_file(str(tmp_path / 'cut' /
                                      'epoch_2.pth'))['state_dict']
    assert any(not torch.equal(epoch2[k], resumed[k]) for k in full
               if k.endswith('weight'))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_cpu_processes_match_one_process(tmp_path):
    """dist_train.sh with 2 processes x batch 8 == 1 process x batch 16.

    GroupNorm and no augmentation make the two runs the same computation:
    the sampler gives each rank every other index of the same permutation
    and DDP averages the two half-batch gradients.
    """
    gn = dict(type='GN', num_groups=4)
    one = write_config(tmp_path / 'one.py', work_dir=tmp_path / 'one',
                       batch=16, augment=False, norm_cfg=gn, distill=True)
    two = write_config(tmp_path / 'two.py', work_dir=tmp_path / 'two',
                       batch=8, augment=False, norm_cfg=gn, distill=True)
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO_ROOT)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), two, '2'],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = next((tmp_path / 'two').glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), one],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]

    a, b = _final_state(tmp_path / 'one'), _final_state(tmp_path / 'two')
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5,
                                   msg=key)
    metrics = []
    for name in ('one', 'two'):
        logs = sorted((tmp_path / name).glob('*/vis_data/scalars.json'))
        lines = [json.loads(x) for x in logs[-1].read_text().splitlines()]
        metrics.append([x['accuracy/top1'] for x in lines
                        if 'accuracy/top1' in x])
    assert len(metrics[0]) == 2 and metrics[0] == pytest.approx(
        metrics[1], abs=1e-6)

    # dist_test.sh with 2 processes == tools/test.py with one
    ckpt = str(tmp_path / 'two' / 'epoch_2.pth')
    env['PORT'] = str(_free_port())
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), two, ckpt,
         '2', '--out', str(tmp_path / 'm2.json'), '--work-dir',
         str(tmp_path / 't2')], env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), one, ckpt,
         '--out', str(tmp_path / 'm1.json'), '--work-dir',
         str(tmp_path / 't1')], env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m1 = json.loads((tmp_path / 'm1.json').read_text())
    m2 = json.loads((tmp_path / 'm2.json').read_text())
    assert m1 == pytest.approx(m2) and m1['accuracy/top1'] == pytest.approx(
        metrics[1][-1])


def test_teacher_metrics_are_logged_apart_and_save_best_uses_student(
        tmp_path):
    from mmkd.engine import TeacherEvalHook
    cfg_path = write_config(tmp_path / 'cfg.py', work_dir=tmp_path / 'w',
                            distill=True, epochs=2)
    cfg = Config.fromfile(cfg_path)
    cfg.default_hooks.checkpoint.save_best = 'auto'
    cfg.custom_hooks.append(dict(type='TeacherEvalHook'))
    runner = KDRunner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, TeacherEvalHook))
    assert set(hook.metrics) == {'teacher/accuracy/top1'}
    # the logged figure is the teacher's own accuracy on the val set
    model = runner.model
    correct = total = 0
    with torch.no_grad():
        for data in runner.val_dataloader:
            data = model.data_preprocessor(data, False)
            logits = model.teacher(data['inputs'], mode='tensor')
            labels = torch.cat([d.gt_label for d in data['data_samples']])
            correct += int((logits.argmax(1) == labels).sum())
            total += len(labels)
    assert hook.metrics['teacher/accuracy/top1'] == pytest.approx(
        100 * correct / total)
    best = list((tmp_path / 'w').glob('best_*.pth'))
    assert len(best) == 1 and best[0].name.startswith(
        'best_accuracy_top1_epoch_')
    log = next((tmp_path / 'w').glob('*/*.log')).read_text()
    assert 'teacher: accuracy/top1' in log
    scalars = next((tmp_path / 'w').glob('*/vis_data/scalars.json'))
    assert 'teacher/accuracy/top1' in scalars.read_text()


def test_loss_epoch_hook_sets_dkd_warmup(tmp_path):
    cfg_path = write_config(tmp_path / 'cfg.py', work_dir=tmp_path / 'w',
                            distill=True, epochs=2, val=False)
    cfg = Config.fromfile(cfg_path)
    cfg.model.distill_losses = dict(loss_dkd=dict(
        type='DKDLoss', warmup_epochs=4,
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))
    runner = KDRunner.from_cfg(cfg)
    seen = []

    class _Spy(Hook):
        priority = 'LOWEST'

        def before_train_epoch(self, runner):
            seen.append(runner.model.distill_losses.loss_dkd.warmup_factor)

    runner.register_hook(_Spy())
    runner.train()
    assert seen == [0.25, 0.5]
