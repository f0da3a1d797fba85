"""DOT in 2 CPU processes (gloo): KDRunner picks TrainStepDataParallel (the
distiller's train_step hands DOT the loss dict), and 2 x batch 4 end with
the weights 1 x batch 8 computes."""
import os
import os.path as osp
import socket
import subprocess
import sys

import torch
from mmengine.config import Config

from mmkd.engine import KDRunner

from conftest import REPO_ROOT, tiny_classifier

BASE = osp.join(REPO_ROOT, 'configs', '_base_')

RANK_SCRIPT = '''
import os, sys
import torch
from mmengine.config import Config
from mmkd.engine import KDRunner
from mmkd.engine.runner import shutdown_distributed

cfg = Config.fromfile(sys.argv[1])
cfg.launcher = sys.argv[2]
runner = KDRunner.from_cfg(cfg)
runner.train()
model = getattr(runner.model, 'module', runner.model)
rank = int(os.environ.get('RANK', 0))
torch.save(dict(wrapper=type(runner.model).__name__,
                optim=type(runner.optim_wrapper).__name__,
                after=model.state_dict()),
           os.path.join(cfg.work_dir, f'rank{rank}.pth'))
shutdown_distributed()
'''


def dot_config(work_dir, batch):
    gn = dict(type='GN', num_groups=4)
    model = dict(
        type='SingleTeacherDistiller',
        student=tiny_classifier(norm_cfg=gn),
        teacher=tiny_classifier(norm_cfg=gn),
        student_loss_weight=0.1,
        distill_losses=dict(loss_kd=dict(
            type='KDLoss', tau=4, loss_weight=0.9,
            inputs=dict(preds_S='s_logits', preds_T='t_logits'))))
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(
    batch_size={batch}, num_workers=0,
    dataset=dict(indices=list(range(0, 5000, 313)),
                 pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True, seed=0))
optim_wrapper = dict(type='DOTOptimWrapper', delta=0.075,
                     constructor='DOTOptimWrapperConstructor',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                    weight_decay=5e-4))
train_cfg = dict(by_epoch=False, max_iters=2)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=100))
randomness = dict(seed=0)
work_dir = {str(work_dir)!r}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(tmp_path, name, nproc, batch):
    work_dir = tmp_path / name
    cfg = tmp_path / f'{name}.py'
    cfg.write_text(dot_config(work_dir, batch))
    script = tmp_path / 'rank.py'
    script.write_text(RANK_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    if nproc > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1',
               f'--master_port={_free_port()}', str(script), str(cfg),
               'pytorch']
    else:
        cmd = [sys.executable, str(script), str(cfg), 'none']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [torch.load(work_dir / f'rank{r}.pth', weights_only=False)
            for r in range(nproc)]


def test_two_processes_match_one(tmp_path):
    ranks = _run(tmp_path, 'two', 2, batch=4)
    assert [r['wrapper'] for r in ranks] == ['TrainStepDataParallel'] * 2
    assert ranks[0]['optim'] == 'DOTOptimWrapper'
    # the same global batch in this process
    cfg_path = tmp_path / 'one.py'
    cfg_path.write_text(dot_config(tmp_path / 'one', batch=8))
    runner = KDRunner.from_cfg(Config.fromfile(str(cfg_path)))
    runner.train()
    assert type(runner.model).__name__ == 'SingleTeacherDistiller'
    one = dict(after=runner.model.state_dict())
    for key, value in ranks[0]['after'].items():
        if not key.startswith('student.'):
            continue
        assert torch.equal(value, ranks[1]['after'][key]), key
        torch.testing.assert_close(value, one['after'][key], rtol=1e-4,
                                   atol=1e-6, msg=key)
