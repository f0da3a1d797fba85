"""tools/visualizations/* and tools/analysis/get_complexity.py, run as a
user would on the quickstart KD config with random weights.

The three tools start together (each is one short subprocess, mostly import
time) so the module costs about one tool's wall time.
"""
import os
import re
import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO_ROOT

CONFIG = 'configs/quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py'
RANDOM = ['--cfg-options', 'model.teacher_ckpt=None']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Start every tool at once; ``{name: (proc, stdout, stderr, out)}``."""
    tmp = tmp_path_factory.mktemp('visual_tools')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    commands = {
        'similarity': (['tools/visualizations/vis_similarity.py', CONFIG,
                        '--num-images', '8', '--out-dir', str(tmp / 'sim')]
                       + RANDOM + ['val_dataloader.dataset.indices=8'],
                       tmp / 'sim'),
        'cam': (['tools/visualizations/vis_cam.py', CONFIG, '--num-images',
                 '3', '--out', str(tmp / 'cam' / 'cam.png')] + RANDOM +
                ['val_dataloader.dataset.indices=3'], tmp / 'cam' / 'cam.png'),
        'complexity': (['tools/analysis/get_complexity.py', CONFIG,
                        '--shape', '3', '32', '32'], None),
    }
    procs = {
        name: (subprocess.Popen([sys.executable] + args, cwd=REPO_ROOT,
                                env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True), out)
        for name, (args, out) in commands.items()
    }
    results = {}
    for name, (proc, out) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (proc, stdout, stderr, out)
    return results


def check_png(path, size):
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as img:
        img.load()
        assert img.format == 'PNG'
        assert img.size == size
        # not blank: more than one colour
        assert len(img.convert('RGB').getcolors(maxcolors=1 << 20)) > 1


def test_vis_similarity(runs):
    proc, stdout, stderr, out = runs['similarity']
    assert proc.returncode == 0, stderr[-3000:]
    # FIGSIZE (12, 4) inches at DPI 100
    check_png(out / 'relation.png', (1200, 400))
    check_png(out / 'semantic.png', (1200, 400))
    values = dict(re.findall(r'^(M_[rs]): (\S+)$', stdout, re.M))
    assert set(values) == {'M_r', 'M_s'}
    for value in values.values():
        assert float(value) >= 0


def test_vis_cam(runs):
    proc, stdout, stderr, out = runs['cam']
    assert proc.returncode == 0, stderr[-3000:]
    # 3 columns x 3 rows of 2-inch cells at DPI 100
    check_png(out, (600, 600))
    preds = re.findall(r'^(teacher|student) predictions: \[(.*)\]$', stdout,
                       re.M)
    assert [p[0] for p in preds] == ['teacher', 'student']
    for _, values in preds:
        labels = [int(v) for v in values.split(',')]
        assert len(labels) == 3 and all(0 <= v < 10 for v in labels)


def test_get_complexity(runs):
    proc, stdout, stderr, _ = runs['complexity']
    assert proc.returncode == 0, stderr[-3000:]
    rows = {line.split()[0]: line.split()[1:]
            for line in stdout.splitlines()
            if line.split() and line.split()[0] in ('teacher', 'student',
                                                     'student/teacher')}
    # sum(p.numel()): ResNet-20 (CIFAR, option-A shortcuts, 10 classes),
    # conv + BN affine + fc; ResNet-8 with widths 8-16-32
    assert int(rows['teacher'][0]) == 272474
    assert int(rows['student'][0]) == 19954
    f_t, f_s = int(rows['teacher'][1]), int(rows['student'][1])
    assert 40e6 < f_t < 42e6 and 0 < f_s < f_t
    assert float(rows['student/teacher'][0]) == pytest.approx(
        19954 / 272474, abs=1e-4)
    assert float(rows['student/teacher'][1]) == pytest.approx(
        f_s / f_t, abs=1e-4)


def test_similarity_colour_bars_clear_the_next_panel(monkeypatch):
    import torch
    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, 'tools',
                                             'visualizations'))
    import vis_similarity
    mats = torch.rand(32, 32), torch.rand(32, 32)
    fig = vis_similarity.figure_pair(*mats, 'title')
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels, bars = fig.axes[:3], fig.axes[3:]
    assert len(bars) == 3
    for bar, right in zip(bars[:2], panels[1:]):
        # the bar with its tick labels ends left of the next panel's labels
        assert bar.get_tightbbox(renderer).x1 < \
            right.get_tightbbox(renderer).x0
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width
