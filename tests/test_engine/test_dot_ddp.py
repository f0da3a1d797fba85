"""DOT in 2 CPU processes (gloo): KDRunner picks TrainStepDataParallel (the
distiller's train_step hands DOT the loss dict), and 2 x batch 4 end with
the weights 1 x batch 8 computes."""
import os.path as osp

import torch
from mmengine.config import Config

from mmkd.engine import KDRunner

from conftest import REPO_ROOT, run_rank_script, tiny_classifier

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


def _run(tmp_path, name, nproc, batch):
    return run_rank_script(tmp_path, name, nproc,
                           dot_config(tmp_path / name, batch), RANK_SCRIPT)


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
