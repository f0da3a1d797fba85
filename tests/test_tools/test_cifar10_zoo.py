"""benchmarks/cifar10_zoo.py: every method's config builds into a distiller
whose dry run (one forward and every loss on a 2-image batch) passes, so a
zoo run cannot fail after the student-alone stage on a wrong tap, channel
count or loss input."""
import argparse
import importlib.util
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

from mmkd.registry import DATASETS, MODELS, OPTIM_WRAPPERS

from conftest import REPO_ROOT


def _zoo():
    spec = importlib.util.spec_from_file_location(
        'cifar10_zoo', osp.join(REPO_ROOT, 'benchmarks', 'cifar10_zoo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ZOO = _zoo()
ARGS = argparse.Namespace(teacher_ckpt='unused.pth', epochs=15, seed=0,
                          data_file=None, work_dir='unused')


@pytest.mark.parametrize('name', ['student', 'dml', 'byot', *ZOO.METHODS])
def test_every_zoo_method_builds_and_dry_runs(name):
    cfg = ZOO.method_config(name, ARGS)
    assert cfg.train_cfg.max_epochs == 15 and cfg.randomness.seed == 0
    if 'teacher' in cfg.model:
        assert cfg.model.teacher_ckpt == 'unused.pth'
        cfg.model.teacher_ckpt = None  # random teacher: shapes only
    if name.startswith('wkd-l'):  # run() builds the teacher's cost here first
        loss = cfg.model.distill_losses.loss_wkd
        assert loss.cost_matrix == ZOO.wkd_cost_path(ARGS)
        assert (loss.decay_start_epoch, loss.max_epochs) == (9, 15)
        loss.cost_matrix = [[float(i != j) for j in range(10)]
                            for i in range(10)]
    init_default_scope('mmkd')
    model = MODELS.build(cfg.model)  # runs the dry run
    if name in ZOO.METHODS:
        assert set(model.distill_losses) == set(
            ZOO.METHODS[name]['distill_losses'])


def test_dot_and_its_baseline_differ_only_in_the_optimiser_wrapper():
    dot, kd = (ZOO.method_config(n, ARGS) for n in ('dot', 'kd-sgdm'))
    assert dot.model == kd.model
    assert dot.optim_wrapper.optimizer == kd.optim_wrapper.optimizer
    assert not kd.optim_wrapper.optimizer.nesterov
    assert (dot.optim_wrapper.type, dot.optim_wrapper.delta) == (
        'DOTOptimWrapper', 0.075)
    assert OPTIM_WRAPPERS.get(dot.optim_wrapper.type) is not None


def test_mlkd_row_trains_on_a_weak_and_a_strong_view():
    cfg = ZOO.method_config('mlkd', ARGS)
    init_default_scope('mmkd')
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    strong = sample['data_samples'].img_strong
    assert strong.shape == sample['inputs'].shape == (3, 32, 32)
    # the other rows keep crop + flip only
    kd = ZOO.method_config('kd', ARGS)
    assert [t['type'] for t in kd.train_dataloader.dataset.pipeline] == [
        'RandomCrop', 'RandomFlip', 'PackInputs']
