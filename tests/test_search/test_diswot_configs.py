"""Every search config in configs/ (train_cfg.type == 'SearchLoop') runs
through tools/search.py's runner on 4 bundled images and a 1-net space."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import KDRunner

from conftest import REPO_ROOT

SEARCH_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p and 'SearchLoop' in open(p).read()
    and Config.fromfile(p).get('train_cfg', {}).get('type') == 'SearchLoop')


def test_the_diswot_configs_are_found():
    names = [osp.basename(p) for p in SEARCH_CONFIGS]
    assert 'diswot_resnet56_s1-search_cifar100.py' in names


@pytest.mark.parametrize('path', SEARCH_CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_search_config_runs(path, tmp_path):
    cfg = Config.fromfile(path)
    if cfg.train_cfg.space.type != 'CIFARResNetDepthSpace':
        pytest.skip('other spaces: tests/test_search/test_space_configs.py')
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset = dict(
        type='CIFAR10Mini', split='train', indices=[0, 500, 1000, 1500],
        pipeline=[dict(type='PackInputs')])
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.space.depths = (1, )
    cfg.train_cfg.searcher = dict(type='ExhaustiveSearcher')
    cfg.train_cfg.constraints = {}
    KDRunner.from_cfg(cfg).train()
    best = Config.fromfile(osp.join(tmp_path, 'best_student_kd.py'))
    assert list(best.model.student.backbone.stage_blocks) == [1, 1, 1]
    assert best.model.teacher.backbone == cfg.model.backbone
