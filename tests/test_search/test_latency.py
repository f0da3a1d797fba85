"""The latency constraint of SearchLoop: measured once per candidate, kept
in latency.json and candidates.jsonl, reloaded on resume, broadcast from
rank 0 in multi-process searches; its config errors."""
import json
import os
import os.path as osp
import socket
import subprocess

import pytest
from mmengine.config import Config

from mmkd.engine import SearchRunner
from mmkd.engine.search_loop import SearchLoop

from conftest import REPO_ROOT, tiny_classifier

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
LIMIT = 3.6  # fake latency = params / 1000: 15 of the 27 nets pass


def write_config(path, work_dir, constraints, fake=False):
    cfg = dict(
        default_scope='mmkd',
        work_dir=str(work_dir),
        model=tiny_classifier(widths=(4, 4, 8)),
        data_preprocessor=dict(
            type='ClsDataPreprocessor', num_classes=10,
            mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
            to_rgb=True),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            dataset=dict(type='CIFAR10Mini', split='train',
                         indices=[0, 500, 1000, 1500],
                         pipeline=[dict(type='PackInputs')]),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        train_cfg=dict(
            type='SearchLoop',
            space=dict(type='CIFARResNetDepthSpace', depths=(1, 2, 3),
                       widths=(4, 4, 8), num_classes=10),
            searcher=dict(type='EvolutionSearcher', population_size=4,
                          num_generations=2, children_per_generation=2,
                          tournament_size=2),
            proxy=dict(type='NWOT'),
            constraints=constraints,
            seed=0),
        randomness=dict(seed=0))
    if fake:
        cfg['custom_imports'] = dict(imports=['test_search._fake_latency'])
    with open(path, 'w') as f:
        f.write(''.join(f'{k} = {v!r}\n' for k, v in cfg.items()))
    return str(path)


def _search(path, **train_cfg):
    cfg = Config.fromfile(path)
    cfg.train_cfg.update(train_cfg)
    SearchRunner.from_cfg(cfg).train()


def _records(work_dir):
    with open(osp.join(work_dir, 'candidates.jsonl')) as f:
        records = [json.loads(line) for line in f]
    for r in records:
        r.pop('time_s')
    return records


def _latency_file(work_dir):
    with open(osp.join(work_dir, 'latency.json')) as f:
        return json.load(f)


def test_measured_latency_is_recorded_and_reused_on_resume(
        tmp_path, monkeypatch):
    path = write_config(tmp_path / 'c.py', tmp_path / 'w',
                        dict(max_latency_ms=1e4, latency_runs=3,
                             latency_batch=2))
    measured = []
    original = SearchLoop.measure_latency
    monkeypatch.setattr(
        SearchLoop, 'measure_latency',
        lambda self, name: measured.append(name) or original(self, name))
    _search(path)
    records = _records(tmp_path / 'w')
    latency = _latency_file(tmp_path / 'w')
    assert len(measured) == len(set(measured)) == len(latency)
    assert {r['name'] for r in records} <= set(latency)
    for r in records:
        assert r['latency_ms'] == latency[r['name']] > 0
    with open(tmp_path / 'w' / 'search_summary.json') as f:
        best = json.load(f)['best']
    assert best['latency_ms'] == latency[best['name']]

    # resumed: nothing is measured again, the result is the same
    def no_measuring(self, name):
        raise AssertionError(f'{name} measured again')

    monkeypatch.setattr(SearchLoop, 'measure_latency', no_measuring)
    os.remove(tmp_path / 'w' / 'candidates.jsonl')  # rescored, not re-timed
    _search(path)
    assert _records(tmp_path / 'w') == records
    # --restart forgets the latencies too
    measured.clear()
    monkeypatch.setattr(
        SearchLoop, 'measure_latency',
        lambda self, name: measured.append(name) or 1.0)
    _search(path, restart=True)
    assert set(_latency_file(tmp_path / 'w').values()) == {1.0}
    assert len(measured) == len(_latency_file(tmp_path / 'w'))


def test_measure_latency_times_eval_forward_passes(tmp_path):
    path = write_config(tmp_path / 'c.py', tmp_path / 'w',
                        dict(max_latency_ms=1e4, latency_runs=4))
    cfg = Config.fromfile(path)
    runner = SearchRunner.from_cfg(cfg)
    loop = runner.build_train_loop(cfg.train_cfg)
    loop.inputs, loop.labels = loop._batch()
    loop.input_shape = tuple(loop.inputs.shape[1:])
    passes = []
    build = loop._build_candidate

    def counting_build(name, seed):
        model = build(name, seed)
        model.register_forward_pre_hook(
            lambda m, args: passes.append(
                (m.training, tuple(args[0].shape))))
        return model

    loop._build_candidate = counting_build
    assert loop.measure_latency('111') > 0
    # 2 warm-up + 4 timed passes of a latency_batch (1) in eval mode
    assert passes == [(False, (1, 3, 32, 32))] * 6


def _fake(monkeypatch):
    # install the fake for this process only (restored afterwards)
    monkeypatch.setattr(SearchLoop, 'measure_latency',
                        SearchLoop.measure_latency)
    monkeypatch.syspath_prepend(TESTS)
    from test_search import _fake_latency
    monkeypatch.setattr(SearchLoop, 'measure_latency',
                        _fake_latency.fake_latency)
    _fake_latency.CALLS.clear()
    return _fake_latency.CALLS


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_latency_limit_rejects_and_ranks_agree(tmp_path, monkeypatch):
    calls = _fake(monkeypatch)
    path = write_config(tmp_path / 'c.py', tmp_path / 'one',
                        dict(max_latency_ms=LIMIT))
    _search(path)
    one = _records(tmp_path / 'one')
    assert all(r['latency_ms'] == r['params'] / 1000 <= LIMIT for r in one)
    assert len(calls) == len(set(calls))  # once per candidate
    assert len(set(calls)) > len(one)  # some were measured and rejected

    # two processes: rank 1's own measurement would reject everything, so
    # matching one process shows that rank 0's values were broadcast
    path = write_config(tmp_path / 'c2.py', tmp_path / 'two',
                        dict(max_latency_ms=LIMIT), fake=True)
    env = dict(os.environ, PORT=str(_free_port()), OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO_ROOT, TESTS]))
    env.pop('CUDA_VISIBLE_DEVICES', None)
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'dist_search.sh'), path, '2'],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = _records(tmp_path / 'two')
    assert two == one
    assert _latency_file(tmp_path / 'two') == _latency_file(tmp_path / 'one')


@pytest.mark.parametrize('constraints,error,match', [
    (dict(max_latency=1.0), KeyError, 'unknown keys'),
    (dict(latency_runs=5), ValueError, 'without max_latency_ms'),
    (dict(max_latency_ms=5, latency_runs=0), ValueError,
     'latency_runs = 0 must be an integer >= 1'),
    (dict(max_latency_ms=5, latency_batch=1.5), ValueError, 'latency_batch'),
    (dict(max_latency_ms=-1), ValueError, 'positive number of ms'),
])
def test_latency_config_errors(tmp_path, constraints, error, match):
    path = write_config(tmp_path / 'c.py', tmp_path / 'w', constraints)
    with pytest.raises(error, match=match):
        _search(path)
    assert not osp.isfile(tmp_path / 'w' / 'candidates.jsonl')
