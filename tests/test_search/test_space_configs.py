"""The DisWOT search configs over the macro, NB201 and backbone-argument
spaces run through tools/search.py's runner: a tiny population, one
generation, 2 bundled CIFAR-10 images."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import SearchRunner

from conftest import REPO_ROOT

DISWOT = osp.join(REPO_ROOT, 'configs', 'diswot')


def _tiny(cfg):
    cfg.train_dataloader.dataset = dict(
        type='CIFAR10Mini', split='train', indices=[0, 500, 1000, 1500],
        pipeline=[dict(type='PackInputs')])
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.num_workers = 0
    if cfg.train_cfg.searcher.type == 'EvolutionSearcher':
        cfg.train_cfg.searcher.population_size = 2
        cfg.train_cfg.searcher.num_generations = 1
        cfg.train_cfg.searcher.children_per_generation = 1


def _run(name, tmp_path, edit=None):
    cfg = Config.fromfile(osp.join(DISWOT, name))
    cfg.work_dir = str(tmp_path)
    _tiny(cfg)
    if edit is not None:
        edit(cfg)
    SearchRunner.from_cfg(cfg).train()
    records = []
    with open(osp.join(tmp_path, 'candidates.jsonl')) as f:
        records = [json.loads(line) for line in f]
    best = Config.fromfile(osp.join(tmp_path, 'best_student_kd.py'))
    with open(osp.join(tmp_path, 'search_summary.json')) as f:
        summary = json.load(f)
    assert best.model.type == 'SingleTeacherDistiller'
    assert best.model.teacher.backbone == cfg.model.backbone
    assert best.model.student == summary['best']['config']
    return cfg, records, best


def test_macro_cifar_config(tmp_path):
    cfg, records, best = _run(
        'diswot_resnet20_macro-cifar-evolution_cifar10mini.py', tmp_path)
    assert 2 <= len(records) <= 3  # 2 random + 1 child, repeats scored once
    for r in records:
        assert r['params'] <= 300_000
        assert r['config']['backbone']['type'] == 'MacroResNet'
        assert len(r['config']['backbone']['groups']) == 3
    assert best.model.student.backbone.type == 'MacroResNet'


def test_macro_imagenet_config(tmp_path):
    def shrink(cfg):  # a 3-group seed keeps the test fast
        cfg.train_cfg.space.groups = [
            dict(type='basic', kernel=3, width=16, depth=1, stride=1),
            dict(type='basic', kernel=3, width=32, depth=1, stride=2)]
        cfg.train_cfg.space.stem = dict(stem_channels=16, stem_kernel=7,
                                        stem_stride=2, stem_pool=True)

    cfg, records, best = _run('diswot_resnet34_macro-r18-evolution_in1k.py',
                              tmp_path, shrink)
    assert cfg.train_cfg.proxy.type == 'DisWOTMr'
    assert cfg.model.backbone.depth == 34
    assert 2 <= len(records) <= 3
    assert all(set(r['scores']) == {'score', 'score.M_r', 'params'}
               for r in records)
    assert best.model.student.backbone.stem_kernel == 7
    assert best.model.student.head.num_classes == 1000


def test_nb201_config(tmp_path):
    cfg, records, best = _run('diswot_resnet56_nb201-evolution_cifar100.py',
                              tmp_path)
    assert cfg.train_cfg.searcher.tournament_size == 8
    assert cfg.train_cfg.searcher.removal == 'aging'
    assert 2 <= len(records) <= 3
    for r in records:
        assert r['config']['backbone']['arch'] == r['name']
        assert r['name'].count('~') == 6
    assert best.model.student.head.in_channels == 64


def test_backbone_args_config(tmp_path):
    def shrink(cfg):
        cfg.train_cfg.space.choices = dict(depth=[10], widen_factor=[1, 2])

    cfg, records, best = _run('diswot_wrn-40-2_wrn-args-search_cifar100.py',
                              tmp_path, shrink)
    assert [r['name'] for r in records] == ['depth=10,widen_factor=1',
                                            'depth=10,widen_factor=2']
    assert [r['config']['head']['in_channels'] for r in records] == [64, 128]
    assert best.model.student.backbone.type == 'WideResNet'


def test_exhaustive_search_of_the_macro_space_is_refused(tmp_path):
    def exhaustive(cfg):
        cfg.train_cfg.searcher = dict(type='ExhaustiveSearcher')

    with pytest.raises(ValueError, match='RandomSearcher or Evolution'):
        _run('diswot_resnet20_macro-cifar-evolution_cifar10mini.py',
             tmp_path, exhaustive)


def test_a_budget_no_candidate_meets_fails_before_scoring(tmp_path):
    def impossible(cfg):
        cfg.train_cfg.constraints = dict(max_params=1000)
        cfg.train_cfg.searcher.max_tries = 5

    with pytest.raises(RuntimeError, match='loosen train_cfg.constraints'):
        _run('diswot_resnet20_macro-cifar-evolution_cifar10mini.py',
             tmp_path, impossible)
    assert not osp.isfile(osp.join(tmp_path, 'candidates.jsonl'))
