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


def _write(tmp_path):
    names = ['111', '333', '555', '777', '557']
    acc = {'111': 60.0, '333': 65.0, '555': 70.0, '777': 72.0, '557': 74.0}
    with open(tmp_path / 'candidates.jsonl', 'w') as f:
        for i, n in enumerate(names):
            f.write(json.dumps(dict(
                name=n, score=float(i), params=100 * (5 - i), flops=7,
                scores={'score': float(i), 'score.M_s': -float(i)})) + '\n')
    (tmp_path / 'truth.json').write_text(json.dumps(acc))


def test_tool_writes_table_json_and_plots(tmp_path):
    _write(tmp_path)
    proc = subprocess.run(
        [sys.executable, TOOL, str(tmp_path / 'candidates.jsonl'),
         str(tmp_path / 'truth.json'), '--out-dir', str(tmp_path / 'out')],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / 'out' / 'correlation.json').read_text())
    assert result['score']['kendall_tau'] == pytest.approx(1.0)
    assert result['params']['kendall_tau'] == pytest.approx(-1.0)
    assert result['score.M_s']['spearman_rho'] == pytest.approx(-1.0)
    # a constant score has no defined rank correlation
    assert result['flops']['kendall_tau'] is None
    image = Image.open(tmp_path / 'out' / 'scatter_score.png')
    assert image.size == (400, 300)
    assert proc.stdout.splitlines()[1].split()[0] == 'score'


def test_names_that_do_not_match_fail_clearly(tmp_path):
    _write(tmp_path)
    (tmp_path / 'truth.json').write_text(json.dumps({'x': 1, 'y': 2}))
    with pytest.raises(ValueError, match="only 0 architectures are in both"):
        pc.correlations(pc.load_candidates(str(tmp_path /
                                               'candidates.jsonl')),
                        {'x': 1.0, 'y': 2.0})
    with pytest.raises(FileNotFoundError, match='run tools/search.py'):
        pc.load_candidates(str(tmp_path / 'missing.jsonl'))
