"""SearchLoop / tools/search.py end to end on tiny nets and bundled data:
outputs, the ready-to-train best config, resuming, 2 CPU processes."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmkd.engine import KDRunner, SearchRunner
from mmkd.engine.search_loop import SearchLoop

from conftest import REPO_ROOT, tiny_classifier

TEMPLATE = osp.join(REPO_ROOT, 'configs', 'quickstart',
                    'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')


def write_search_config(path, work_dir, constraints=None, searcher=None):
    searcher = searcher or dict(
        type='EvolutionSearcher', population_size=3, num_generations=3,
        children_per_generation=2, tournament_size=2)
    cfg = dict(
        default_scope='mmkd',
        work_dir=str(work_dir),
        model=tiny_classifier(widths=(4, 4, 8)),
        data_preprocessor=dict(
            type='ClsDataPreprocessor', num_classes=10,
            mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
            to_rgb=True),
        train_dataloader=dict(
            batch_size=8, num_workers=0,
            dataset=dict(type='CIFAR10Mini', split='train',
                         indices=list(range(0, 5000, 313)),
                         pipeline=[dict(type='PackInputs')]),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(
            type='SearchLoop',
            space=dict(type='CIFARResNetDepthSpace', depths=(1, 2, 3),
                       widths=(4, 4, 8), num_classes=10),
            searcher=searcher,
            proxy=dict(type='DisWOT'),
            extra_proxies=dict(params=dict(type='Params'),
                               nwot=dict(type='NWOT')),
            constraints=constraints if constraints is not None else dict(
                max_params=4500),
            seed=0,
            train_template=TEMPLATE),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        log_level='INFO')
    with open(path, 'w') as f:
        f.write(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return str(path)


def _search(cfg_path, work_dir=None):
    cfg = Config.fromfile(cfg_path)
    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    runner = SearchRunner.from_cfg(cfg)
    runner.train()
    return runner


def _results(work_dir):
    with open(osp.join(work_dir, 'search_summary.json')) as f:
        summary = json.load(f)
    summary.pop('best_config', None)
    records = {}
    with open(osp.join(work_dir, 'candidates.jsonl')) as f:
        for line in f:
            r = json.loads(line)
            r.pop('time_s')
            records[r['name']] = r
    return summary, records


@pytest.fixture(scope='module')
def full_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('full')
    path = write_search_config(tmp / 'search.py', tmp / 'work')
    _search(path)
    return path, tmp / 'work'


def test_search_writes_candidates_plot_and_a_trainable_best_config(
        full_run, tmp_path):
    cfg_path, work_dir = full_run
    summary, records = _results(work_dir)
    assert records and all(r['params'] <= 4500 for r in records.values())
    assert all(
        set(r['scores']) == {'score', 'score.M_s', 'score.M_r', 'params',
                             'nwot'} for r in records.values())
    for r in records.values():
        assert r['score'] == r['scores']['score'] and r['flops'] > 0
        # parts are recorded higher-is-better, like the score they sum to
        assert r['score'] == pytest.approx(
            r['scores']['score.M_s'] + r['scores']['score.M_r'])
        assert r['scores']['score.M_s'] <= 0 and r['scores']['score.M_r'] <= 0
        assert r['config']['backbone']['type'] == 'CIFARStageResNet'
    best = max(records.values(), key=lambda r: r['score'])
    assert summary['best']['name'] == best['name']
    assert summary['num_scored'] == len(records)
    assert len(summary['generations']) == 4
    assert osp.getsize(osp.join(work_dir, 'search_scores.png')) > 1000

    # the best student, distilled from the same teacher with KD
    cfg = Config.fromfile(osp.join(work_dir, 'best_student_kd.py'))
    assert cfg.model.type == 'SingleTeacherDistiller'
    assert list(cfg.model.student.backbone.stage_blocks) == \
        best['config']['backbone']['stage_blocks']
    assert cfg.model.teacher.backbone == tiny_classifier(
        widths=(4, 4, 8))['backbone']
    assert cfg.model.teacher_ckpt is None
    assert 'loss_kd' in cfg.model.distill_losses
    cfg.work_dir = str(tmp_path)
    for loader, split in (('train_dataloader', 'train'),
                          ('val_dataloader', 'test')):
        cfg[loader].dataset.indices = [0, 500, 1000, 1500] if \
            split == 'train' else [0, 300]
        cfg[loader].batch_size = 2
    cfg.train_cfg.max_epochs = 1
    runner = KDRunner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(osp.join(tmp_path, 'epoch_1.pth'))


class _Killed(Exception):
    pass


def test_interrupted_search_resumes_to_the_same_result(
        full_run, tmp_path, monkeypatch):
    cfg_path, full_dir = full_run
    original = SearchLoop.score_candidate
    calls = []

    def killed_after_5(self, name):
        calls.append(name)
        if len(calls) > 5:
            raise _Killed()
        return original(self, name)

    monkeypatch.setattr(SearchLoop, 'score_candidate', killed_after_5)
    with pytest.raises(_Killed):
        _search(cfg_path, tmp_path)
    with open(tmp_path / 'candidates.jsonl') as f:
        finished = len(f.readlines())
    assert 3 <= finished <= 5  # whole generations only
    monkeypatch.setattr(SearchLoop, 'score_candidate', original)
    rescored = []
    monkeypatch.setattr(
        SearchLoop, 'score_candidate',
        lambda self, name: rescored.append(name) or original(self, name))
    _search(cfg_path, tmp_path)
    full_summary, full_records = _results(full_dir)
    summary, records = _results(tmp_path)
    assert summary == full_summary
    assert records == full_records
    assert len(rescored) == len(full_records) - finished

    # the same work dir with another search: refused
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.seed = 1
    with pytest.raises(RuntimeError,
                       match=r'other settings \(settings.searcher.seed: 0 -> 1'):
        SearchRunner.from_cfg(cfg).train()
    cfg.train_cfg.restart = True  # tools/search.py --restart
    SearchRunner.from_cfg(cfg).train()
    assert _results(tmp_path)[1] != full_records


def test_constraints_no_candidate_meets_fail_before_scoring(
        tmp_path, monkeypatch):
    scored = []
    monkeypatch.setattr(SearchLoop, 'score_candidate',
                        lambda self, name: scored.append(name))
    for searcher in (dict(type='ExhaustiveSearcher'),
                     dict(type='EvolutionSearcher', population_size=2,
                          max_tries=10)):
        path = write_search_config(tmp_path / 'c.py', tmp_path / 'w',
                                   constraints=dict(max_params=10),
                                   searcher=searcher)
        with pytest.raises(RuntimeError, match='constraints'):
            _search(path, tmp_path / 'w')
    assert not scored


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_match_one_and_the_tool_rejects_training_configs(
        full_run, tmp_path):
    cfg_path, full_dir = full_run
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=REPO_ROOT)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_search.sh'), cfg_path,
         '2', '--work-dir', str(tmp_path / 'two')],
        env=env, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _results(tmp_path / 'two') == _results(full_dir)
    log = next((tmp_path / 'two').glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and '(2 process(es))' in log

    proc = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'search.py'),
         osp.join(REPO_ROOT, 'configs', 'quickstart',
                  'resnet20_1xb64_cifar10mini.py')],
        env=env, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert proc.returncode != 0 and 'not a search config' in proc.stderr
