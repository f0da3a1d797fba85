"""Every config in configs/ and projects/ builds and trains 2 iterations.

Search configs (``train_cfg.type='SearchLoop'``) are run by
``tests/test_search/test_diswot_configs.py`` instead.

Datasets are swapped for 4 images of the bundled CIFAR-10 subset, batch 2,
and teachers start random; models keep their real sizes. Pipeline configs
are checked stage by stage (each stage config must load) without training.
Evaluation-only configs (no ``train_dataloader``, e.g. an exported model)
build and run the test loop.
"""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import KDRunner, check_stages

from conftest import REPO_ROOT

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                         recursive=True) + glob.glob(
        osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
    if '_base_' not in p)
STAND_IN_SIZE = 4
# one image of each of 4 classes (CIFAR10Mini is sorted by class)
STAND_IN_INDICES = {'train': [0, 500, 1000, 1500], 'test': [0, 300, 600, 900]}


@pytest.fixture(autouse=True, scope='module')
def _cheap_config_text():
    """mmengine formats the whole config with yapf five times per runner
    (about half of each test's time); these tests never read that text."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Config, 'pretty_text',
                      property(lambda self: repr(self._cfg_dict.to_dict())))
        yield


def _rel(path):
    return osp.relpath(path, REPO_ROOT)


def _innermost_dataset(dataset):
    while 'pipeline' not in dataset and isinstance(dataset.get('dataset'),
                                                   dict):
        dataset = dataset['dataset']
    return dataset


def _shrink_model(node):
    """Size memory banks and negatives to the stand-in data."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_data':
                node[key] = STAND_IN_SIZE
            elif key == 'nce_k':
                node[key] = 2
            else:
                _shrink_model(value)
    elif isinstance(node, list):
        for item in node:
            _shrink_model(item)


def _stand_in(cfg, work_dir):
    cfg.work_dir = str(work_dir)
    for name, split in (('train_dataloader', 'train'),
                        ('val_dataloader', 'test'),
                        ('test_dataloader', 'test')):
        loader = cfg.get(name)
        if not loader:
            continue
        inner = _innermost_dataset(loader.dataset)
        pipeline = [t for t in inner.get('pipeline', [])
                    if t['type'] != 'LoadImageFromFile']
        inner.clear()
        inner.update(type='CIFAR10Mini', split=split,
                     indices=STAND_IN_INDICES[split], serialize_data=False,
                     pipeline=pipeline)
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    model = cfg.model
    if model.get('teacher_ckpt') is not None:
        model.teacher_ckpt = None
    for loss in (model.get('distill_losses') or {}).values():
        # a downloaded data file (WKD-L's cost matrix): a uniform stand-in
        path = loss.get('cost_matrix')
        if isinstance(path, str) and not osp.isfile(path):
            k = model.student.head.num_classes
            loss.cost_matrix = [[float(i != j) for j in range(k)]
                                for i in range(k)]
    _shrink_model(model)
    if model.get('teacher_store') is not None:
        _stand_in_store(cfg, osp.join(str(work_dir), 'teacher_store'))
    if cfg.get('train_cfg') is None:
        return cfg  # an evaluation-only config
    if cfg.train_cfg.get('by_epoch', True) and 'max_epochs' in cfg.train_cfg:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    else:
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    return cfg


def _stand_in_store(cfg, out):
    """A config training from a teacher store: build the store of the
    stand-in data and its random teacher (one view), and point to it."""
    from mmkd.datasets.teacher_store import write_teacher_store
    from mmkd.models.algorithms import build_classifier, prepare_teacher
    from mmkd.registry import MODELS
    teacher = build_classifier(cfg.model.teacher, 'model.teacher')
    prepare_teacher(teacher, None, 'model.teacher_ckpt', False, True)
    write_teacher_store(
        out, teacher, MODELS.build(cfg.data_preprocessor),
        cfg.train_dataloader.dataset.dataset.to_dict(), views=1,
        seed=cfg.train_dataloader.dataset.get('seed') or 0,
        teacher_info=dict(model=cfg.model.teacher, ckpt=None))
    cfg.model.teacher_store = cfg.train_dataloader.dataset.store = out


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_builds_and_trains(path, tmp_path):
    cfg = Config.fromfile(path)
    if (cfg.get('train_cfg') or {}).get('type') == 'SearchLoop':
        # searches, not trainings: tests/test_search runs each on 4 images
        return
    if cfg.get('stages') is not None:
        stages = check_stages(cfg)
        for stage in stages:
            stage_path = osp.join(osp.dirname(path), stage['config'])
            assert osp.isfile(stage_path), stage_path
            Config.fromfile(stage_path)
        return
    assert osp.basename(path).count('_') >= 2, (
        'config names follow {algorithm}_{teacher}_{student}_{NxbB}_{data} '
        'or {model}_{NxbB}_{data}')
    runner = KDRunner.from_cfg(_stand_in(cfg, tmp_path))
    if cfg.get('train_dataloader') is None:
        # evaluation-only (an exported model): it builds and tests
        assert 'accuracy/top1' in runner.test()
        return
    runner.train()
    assert osp.isfile(osp.join(tmp_path, 'epoch_1.pth')) or osp.isfile(
        osp.join(tmp_path, 'iter_2.pth'))
