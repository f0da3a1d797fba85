"""Every S1 search config in configs/ (train_cfg.type == 'SearchLoop' over
CIFARResNetDepthSpace, inherited or not) runs through tools/search.py's
runner on 4 bundled images and a 1-net space. The other spaces' configs:
tests/test_search/test_space_configs.py."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import SearchRunner

from conftest import REPO_ROOT

def _is_s1_search(path):
    train_cfg = Config.fromfile(path).get('train_cfg', {})
    return (train_cfg.get('type') == 'SearchLoop' and train_cfg.get(
        'space', {}).get('type') == 'CIFARResNetDepthSpace')


SEARCH_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    # search configs live in configs/diswot or name SearchLoop themselves
    if '_base_' not in p and (osp.basename(osp.dirname(p)) == 'diswot'
                              or 'SearchLoop' in open(p).read())
    and _is_s1_search(p))


def test_the_diswot_configs_are_found():
    names = [osp.basename(p) for p in SEARCH_CONFIGS]
    assert 'diswot_resnet56_s1-search_cifar100.py' in names
    # inherited search configs are found too
    assert 'proxy-zoo_resnet20_s1-exhaustive_cifar10mini.py' in names


@pytest.mark.parametrize('path', SEARCH_CONFIGS,
                         ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_search_config_runs(path, tmp_path):
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset = dict(
        type='CIFAR10Mini', split='train', indices=[0, 500, 1000, 1500],
        pipeline=[dict(type='PackInputs')])
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.space.depths = (1, )
    cfg.train_cfg.searcher = dict(type='ExhaustiveSearcher')
    cfg.train_cfg.constraints = {}
    SearchRunner.from_cfg(cfg).train()
    best = Config.fromfile(osp.join(tmp_path, 'best_student_kd.py'))
    assert list(best.model.student.backbone.stage_blocks) == [1, 1, 1]
    assert best.model.teacher.backbone == cfg.model.backbone
