"""Training curves: mmengine's LocalVisBackend and TensorboardVisBackend on a
2-iteration KD run, and tools/analysis/plot_curves.py on what they wrote."""
import glob
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from PIL import Image

from conftest import REPO_ROOT
from test_engine._tiny_configs import write_config

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_curves.py')
BOTH_BACKENDS = """_base_ = ['./kd.py']
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                dict(type='TensorboardVisBackend')])
"""


def load_tool():
    spec = importlib.util.spec_from_file_location('plot_curves', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_env():
    return dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Two KD trainings of 2 iterations (32 images, batch 16), started
    together: ``both`` adds TensorBoard by a config line (as
    docs/user_guides/visual_tools.md shows), ``tb`` swaps the local backend
    for it with ``--cfg-options``. ``{name: run dir}``."""
    tmp = tmp_path_factory.mktemp('curves')
    write_config(tmp / 'kd.py', work_dir=tmp / 'unused', distill=True,
                 epochs=1, n_train=32, batch=16)
    (tmp / 'kd_both.py').write_text(BOTH_BACKENDS)
    commands = {
        'both': [str(tmp / 'kd_both.py'), '--work-dir', str(tmp / 'both')],
        'tb': [str(tmp / 'kd.py'), '--work-dir', str(tmp / 'tb'),
               '--cfg-options',
               'visualizer.vis_backends.0.type=TensorboardVisBackend'],
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, 'tools/train.py'] + args, cwd=REPO_ROOT,
            env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True) for name, args in commands.items()
    }
    dirs = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
        dirs[name] = glob.glob(str(tmp / name / '2*'))[0]
    return dirs


def read_scalars(run_dir):
    with open(osp.join(run_dir, 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f]


def read_events(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    files = glob.glob(osp.join(run_dir, 'vis_data', 'events.out.tfevents*'))
    assert len(files) == 1, files
    acc = EventAccumulator(files[0])
    acc.Reload()
    return acc


def test_each_distillation_loss_is_logged_on_its_own(runs):
    train = [r for r in read_scalars(runs['both']) if 'iter' in r]
    assert [r['step'] for r in train] == [1, 2]
    for r in train:
        # 0.1 CE (student.loss) + 0.9 KL (loss_kd), summed by mmengine
        assert r['loss'] == pytest.approx(r['student.loss'] + r['loss_kd'],
                                          rel=1e-5)
        assert r['loss_kd'] > 0


@pytest.mark.parametrize('name', ['both', 'tb'])
def test_tensorboard_events_hold_the_losses(runs, name):
    acc = read_events(runs[name])
    tags = acc.Tags()['scalars']
    for tag in ('loss', 'student.loss', 'loss_kd', 'accuracy/top1'):
        assert tag in tags, tags
    kd = acc.Scalars('loss_kd')
    assert [e.step for e in kd] == [1, 2]
    if name == 'both':
        # the same numbers as the local backend's scalars.json
        local = [r['loss_kd'] for r in read_scalars(runs['both'])
                 if 'iter' in r]
        assert [e.value for e in kd] == pytest.approx(local, rel=1e-6)
    else:
        # the TensorBoard backend replaced the local one
        assert not osp.exists(osp.join(runs[name], 'vis_data',
                                       'scalars.json'))


def test_plot_curves_tool_writes_the_png(runs, tmp_path):
    # default keys, from the work dir (its newest run)
    work_dir = osp.dirname(runs['both'])
    proc = subprocess.run([sys.executable, TOOL, work_dir], cwd=REPO_ROOT,
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'plotted loss, student.loss, loss_kd, accuracy/top1' in \
        proc.stdout
    png = osp.join(runs['both'], 'vis_data', 'curves.png')
    with Image.open(png) as img:
        assert img.size == (1200, 450)
        # curves, legends and axes: not a blank canvas
        assert len(img.convert('RGB').getcolors(1 << 24)) > 50

    out = tmp_path / 'sub' / 'kd.png'
    tool = load_tool()
    tool.main([osp.join(runs['both'], 'vis_data', 'scalars.json'),
               '--keys', 'loss_kd', '--out', str(out), '--title', 'KD'])
    with Image.open(out) as img:
        assert img.size == (1200, 450)


def test_plot_curves_keys(tmp_path):
    """Key choice on a hand-written scalars file (iteration-based run with
    a teacher metric)."""
    lines = [
        dict(lr=0.1, loss=3.0, loss_cls=1.0, loss_at=2.0, iter=1, step=1),
        dict(lr=0.1, loss=2.0, loss_cls=0.5, loss_at=1.5, iter=2, step=2),
        {'accuracy/top1': 40.0, 'teacher/accuracy/top1': 70.0, 'step': 2},
    ]
    path = tmp_path / 'scalars.json'
    path.write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    tool = load_tool()
    train, val = tool.load_scalars(str(path))
    assert len(train) == 2 and len(val) == 1
    assert tool.choose_keys(train, val) == (
        ['loss', 'loss_cls', 'loss_at'],
        ['accuracy/top1', 'teacher/accuracy/top1'])
    assert tool.choose_keys(train, val, ['lr', 'teacher/accuracy/top1']) \
        == (['lr'], ['teacher/accuracy/top1'])
    assert tool.series(train, 'loss_at') == ([1, 2], [2.0, 1.5])
    # validation only: one panel, still the same size
    tool.main([str(path), '--keys', 'accuracy/top1', '--out',
               str(tmp_path / 'acc.png')])
    with Image.open(tmp_path / 'acc.png') as img:
        assert img.size == (1200, 450)


def test_plot_curves_errors_write_nothing(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps(dict(loss=1.0, loss_kd=0.5, iter=1, step=1))
                    + '\n')
    out = tmp_path / 'out.png'
    tool = load_tool()
    with pytest.raises(SystemExit, match=r"--keys loss_dkd: not in the "
                       r'scalars file; keys present: loss, loss_kd\.'):
        tool.main([str(path), '--keys', 'loss_kd', 'loss_dkd', '--out',
                   str(out)])
    with pytest.raises(SystemExit, match='does not exist; pass work_dir/'):
        tool.main([str(tmp_path / 'nope.json'), '--out', str(out)])
    with pytest.raises(SystemExit, match='has no vis_data/scalars.json'):
        tool.main([str(tmp_path), '--out', str(out)])
    path.write_text('not json\n')
    with pytest.raises(SystemExit, match=r'scalars.json:1 is not JSON'):
        tool.main([str(path), '--out', str(out)])
    assert not out.exists()
