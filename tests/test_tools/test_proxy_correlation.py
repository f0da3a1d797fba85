"""tools/analysis/proxy_correlation.py: rank correlations by hand."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'proxy_correlation.py')
spec = importlib.util.spec_from_file_location('proxy_correlation', TOOL)
pc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pc)


def test_kendall_and_spearman_by_hand():
    # x = 1 2 3 4, y = 1 3 2 4: pairs (2,3) discordant, 5 concordant
    assert pc.kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(
        (5 - 1) / 6)
    # d = ranks difference 0,1,1,0: rho = 1 - 6*2 / (4*15) = 0.8
    assert pc.spearman_rho([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert pc.kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)
    # ties: x = 1 1 2, y = 1 2 3 -> C = 2, D = 0, one tie in x:
    # tau_b = 2 / sqrt((2 + 1) * 2)
    assert pc.kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(
        2 / (3 * 2)**0.5)
    assert pc.rankdata([10, 20, 20, 5]) == [2, 3.5, 3.5, 1]


def _write(tmp_path, old_signs=False, extra=None):
    """Five architectures; DisWOT-like parts M_s = i - 10 and M_r = 10
    sum to the score i (or, as older mmkd wrote them, raw distances)."""
    names = ['111', '333', '555', '777', '557']
    acc = {'111': 60.0, '333': 65.0, '555': 70.0, '777': 72.0, '557': 74.0}
    sign = -1 if old_signs else 1
    with open(tmp_path / 'candidates.jsonl', 'w') as f:
        for i, n in enumerate(names):
            scores = {'score': float(i), 'score.M_s': sign * (i - 10.0),
                      'score.M_r': sign * 10.0}
            scores.update({k: v(i) for k, v in (extra or {}).items()})
            f.write(json.dumps(dict(
                name=n, score=float(i), params=100 * (5 - i), flops=7,
                scores=scores)) + '\n')
    (tmp_path / 'truth.json').write_text(json.dumps(acc))


def _tool(tmp_path):
    proc = subprocess.run(
        [sys.executable, TOOL, str(tmp_path / 'candidates.jsonl'),
         str(tmp_path / 'truth.json'), '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / 'out' / 'correlation.json').read_text())
    return proc.stdout, result


def test_tool_writes_table_json_and_plots(tmp_path):
    _write(tmp_path)
    stdout, result = _tool(tmp_path)
    assert result['score']['kendall_tau'] == pytest.approx(1.0)
    assert result['params']['kendall_tau'] == pytest.approx(-1.0)
    # parts are higher-is-better like the score: M_s ranks as the score
    assert result['score.M_s']['spearman_rho'] == pytest.approx(1.0)
    # a constant score has no defined rank correlation
    assert result['flops']['kendall_tau'] is None
    assert result['score.M_r']['kendall_tau'] is None
    image = Image.open(tmp_path / 'out' / 'scatter_score.png')
    assert image.size == (400, 300)
    lines = stdout.splitlines()
    assert 'Every score is higher-is-better' in lines[0]
    # line 1 is the header, best first after it
    assert lines[2].split()[0] == 'score'
    assert f'correlations written to {tmp_path / "out"}' in stdout


def test_old_distance_parts_are_negated_with_a_notice(tmp_path):
    for folder, old_signs in (('new', False), ('old', True)):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder, old_signs=old_signs)
    new = _tool(tmp_path / 'new')[1]
    stdout, old = _tool(tmp_path / 'old')
    assert "['score.M_r', 'score.M_s'] were recorded as distances" in stdout
    assert old == new


def test_a_key_repeating_another_is_reported_once(tmp_path):
    _write(tmp_path, extra={'size': lambda i: 100 * (5 - i)})
    stdout, result = _tool(tmp_path)
    assert "'size' equals 'params' on every architecture" in stdout
    assert 'size' not in result and 'params' in result


def test_names_that_do_not_match_fail_clearly(tmp_path):
    _write(tmp_path)
    (tmp_path / 'truth.json').write_text(json.dumps({'x': 1, 'y': 2}))
    with pytest.raises(ValueError, match="only 0 architectures are in both"):
        pc.correlations(pc.load_candidates(str(tmp_path /
                                               'candidates.jsonl')),
                        {'x': 1.0, 'y': 2.0})
    with pytest.raises(FileNotFoundError, match='run tools/search.py'):
        pc.load_candidates(str(tmp_path / 'missing.jsonl'))


def test_pearson_and_mean_std_over_seeds_by_hand(tmp_path):
    # x = 1 2 3, y = 1 2 4: r = cov / sqrt(var x var y)
    #   = 1.5 / sqrt(2 * (1 + 0 + ... )) with means 2 and 7/3:
    #   cov = (-1)(-4/3) + 0 + (1)(5/3) = 3, var x = 2, var y = 14/3
    assert pc._pearson([1, 2, 3], [1, 2, 4]) == pytest.approx(
        3 / (2 * 14 / 3)**0.5)
    truth = {'a': 1.0, 'b': 2.0, 'c': 3.0}
    seed0 = {'a': {'p': 1.0}, 'b': {'p': 2.0}, 'c': {'p': 3.0}}  # tau 1
    seed1 = {'a': {'p': 2.0}, 'b': {'p': 1.0}, 'c': {'p': 3.0}}  # tau 1/3
    summary = pc.over_seeds([pc.correlations(seed0, truth),
                             pc.correlations(seed1, truth)])
    assert summary['p']['kendall_tau'] == pytest.approx((1 + 1 / 3) / 2)
    assert summary['p']['kendall_tau_std'] == pytest.approx(1 / 3)
    assert summary['p']['seeds'] == 2
    # seed1's Spearman: ranks (2,1,3) vs (1,2,3): 1 - 6*2/(3*8) = 0.5
    assert summary['p']['spearman_rho'] == pytest.approx(0.75)
    # two files on the command line give mean and std in the JSON
    for i, table in enumerate((seed0, seed1)):
        with open(tmp_path / f'c{i}.jsonl', 'w') as f:
            for name, scores in table.items():
                f.write(json.dumps(dict(name=name, score=scores['p'],
                                        scores=dict(scores))) + '\n')
    (tmp_path / 'truth.json').write_text(json.dumps(truth))
    pc.main([str(tmp_path / 'c0.jsonl'), str(tmp_path / 'c1.jsonl'),
             str(tmp_path / 'truth.json'), '--out-dir', str(tmp_path)])
    result = json.loads((tmp_path / 'correlation.json').read_text())
    assert 'p' not in result  # it repeats the score: reported once
    assert result['score']['kendall_tau_std'] == pytest.approx(1 / 3)
    assert result['score']['pearson_r'] == pytest.approx(
        (1 + pc._pearson([2, 1, 3], [1, 2, 3])) / 2)
