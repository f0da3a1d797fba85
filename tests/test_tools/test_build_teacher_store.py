"""tools/build_teacher_store.py on the store config, then one epoch of KD
from the store through the runner."""
import importlib.util
import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import KDRunner

from conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs', 'teacher_store',
                  'kd-store_resnet20_resnet8-w8_1xb64_cifar10mini.py')
INDICES = [0, 500, 1000, 1500, 2000, 2500]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'build_teacher_store',
        osp.join(REPO_ROOT, 'tools', 'build_teacher_store.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_store_for_a_config_then_train_from_it(tmp_path):
    store = str(tmp_path / 'store')
    options = ['model.teacher_ckpt=None',
               f'train_dataloader.dataset.dataset.indices={INDICES}']
    tool = _tool()
    done = tool.main([CONFIG, '--out', store, '--epochs', '2', '--topk', '4',
                      '--shard-size', '4', '--cfg-options', *options])
    assert done == dict(built=2, skipped=0, num_shards=2)
    manifest = json.load(open(osp.join(store, 'manifest.json')))
    assert (manifest['views'], manifest['topk'], manifest['seed']) == (2, 4,
                                                                      0)
    assert manifest['teacher']['model']['backbone']['depth'] == 20
    assert [t['type'] for t in manifest['pipeline']] == [
        'RandomCrop', 'RandomFlip', 'PackInputs']
    # resumed: nothing left to do
    assert tool.main([CONFIG, '--out', store, '--epochs', '2', '--topk', '4',
                      '--shard-size', '4', '--cfg-options', *options]) == \
        dict(built=0, skipped=2, num_shards=2)
    # --epochs defaults to train_cfg.max_epochs; another count is refused
    with pytest.raises(ValueError, match='another views'):
        tool.main([CONFIG, '--out', store, '--topk', '4', '--shard-size',
                   '4', '--cfg-options', *options])

    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({
        'model.teacher_ckpt': None, 'model.teacher_store': store,
        'train_dataloader.dataset.store': store,
        'train_dataloader.dataset.dataset.indices': INDICES,
        'train_dataloader.batch_size': 3,
        'val_dataloader.dataset.indices': [0, 300],
        'train_cfg.max_epochs': 1, 'default_hooks.logger.interval': 1,
        'work_dir': str(tmp_path / 'work')})
    runner = KDRunner.from_cfg(cfg)
    assert not hasattr(runner.model, 'teacher')  # the teacher is not built
    runner.train()
    log = open(next((tmp_path / 'work').glob('*/*.log'))).read()
    assert 'loss_kd' in log and 'accuracy/top1' in log
