"""CAKD with a discriminator in 2 CPU processes (gloo): KDRunner picks
TrainStepDataParallel, which runs CAKDDistiller.train_step (student step,
then discriminator step) and averages both optimizers' gradients."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch

from mmkd.engine import KDRunner
from mmkd.models.interfaces import OwnTrainStep

from conftest import REPO_ROOT, run_rank_script, tiny_classifier

BASE = osp.join(REPO_ROOT, 'configs', '_base_')

# each rank trains, then saves its own weights before and after
RANK_SCRIPT = '''
import os, sys
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmkd.engine import KDRunner
from mmkd.engine.runner import shutdown_distributed


def unwrap(model):
    return getattr(model, 'module', model)


class Snapshot(Hook):
    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if batch_idx == 0:
            state = unwrap(runner.model).state_dict()
            self.before = {k: v.clone() for k, v in state.items()}


cfg = Config.fromfile(sys.argv[1])
cfg.launcher = sys.argv[2]
runner = KDRunner.from_cfg(cfg)
snap = Snapshot()
runner.register_hook(snap)
runner.train()
rank = int(os.environ.get('RANK', 0))
torch.save(dict(wrapper=type(runner.model).__name__, before=snap.before,
                after=unwrap(runner.model).state_dict()),
           os.path.join(cfg.work_dir, f'rank{rank}.pth'))
shutdown_distributed()
'''


def cakd_config(work_dir, batch):
    vit = dict(
        type='ImageClassifier',
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=32, num_layers=1, num_heads=4,
                                feedforward_channels=32),
                      img_size=32, patch_size=8),
        neck=None,
        head=dict(type='VisionTransformerClsHead', num_classes=10,
                  in_channels=32, loss=dict(type='CrossEntropyLoss')))
    model = dict(
        type='CAKDDistiller',
        # GroupNorm: 2 x batch 4 is then the computation of 1 x batch 8
        student=tiny_classifier(norm_cfg=dict(type='GN', num_groups=4)),
        teacher=vit,
        taps=dict(feat_S='student.backbone.layer3'),
        distill_losses=dict(loss_cakd=dict(
            type='CAKDLoss', student_channels=32, teacher_dims=32,
            teacher_heads=4, mode='released-code',
            inputs=dict(feats_S='feat_S', t_q='t_q', t_k='t_k', t_v='t_v',
                        t_featmap='t_featmap'))),
        discriminator=dict(type='AttentionDiscriminator', base_channels=4),
        adv_weight=1.0)
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(
    batch_size={batch}, num_workers=0,
    dataset=dict(indices=list(range(0, 5000, 313)),
                 pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True, seed=0))
optim_wrapper = dict(
    constructor='DiscriminatorOptimWrapperConstructor',
    student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
    discriminator=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)))
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
                           cakd_config(tmp_path / name, batch), RANK_SCRIPT)


def test_two_processes_train_generator_and_discriminator_in_step(tmp_path):
    ranks = _run(tmp_path, 'two', 2, batch=4)
    assert [r['wrapper'] for r in ranks] == ['TrainStepDataParallel'] * 2
    (one, ) = _run(tmp_path, 'one', 1, batch=8)
    assert one['wrapper'] == 'CAKDDistiller'  # no wrapper in one process
    moved = set()
    for key, value in ranks[0]['after'].items():
        if not key.startswith(('student.', 'discriminator.',
                               'distill_losses.')):
            continue
        # both ranks end with the same student, projectors, discriminator
        assert torch.equal(value, ranks[1]['after'][key]), key
        # ... the weights 1 process computes from the same global batch
        torch.testing.assert_close(value, one['after'][key], rtol=1e-4,
                                   atol=1e-6, msg=key)
        if not torch.equal(value, ranks[0]['before'][key]):
            moved.add(key.split('.')[0])
    assert moved == {'student', 'discriminator', 'distill_losses'}
    for key, value in ranks[0]['before'].items():
        assert torch.equal(value, ranks[1]['before'][key]), key


def test_kdrunner_refuses_a_wrapper_that_bypasses_train_step():
    class OwnStep(OwnTrainStep):
        default_model_wrapper = 'TrainStepDataParallel'

    model = OwnStep()
    runner = SimpleNamespace(distributed=True)
    with pytest.raises(TypeError, match='runs its own train_step'):
        KDRunner.wrap_model(runner, dict(type='MMDistributedDataParallel'),
                            model)
