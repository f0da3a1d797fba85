"""Loading is strict wherever a wrong load gives a wrong answer (issue 12).

tools/test.py, --resume, load_from, student_ckpt and hostile checkpoints on
every path. The tools run in-process (``main()`` with ``sys.argv`` set), so
each test costs a few seconds, not an interpreter start.
"""
import os
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config

from mmkd.registry import MODELS, RUNNERS
from mmkd.utils.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT
from test_engine._tiny_configs import write_config

TORCH_ADVICE = 'weights_only` set to `False'


def run_main(tool, *argv, monkeypatch):
    """Run ``tools/<tool>``'s ``main()`` in this process."""
    path = osp.join(REPO_ROOT, 'tools', tool)
    monkeypatch.syspath_prepend(osp.dirname(path))
    monkeypatch.setattr(sys, 'argv', [path] + [str(a) for a in argv])
    return runpy.run_path(path, run_name='mmkd_tool')['main']()


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A tiny KD run of one epoch: the configs and its checkpoint."""
    root = tmp_path_factory.mktemp('kd')
    kd_cfg = write_config(root / 'kd.py', work_dir=root / 'kd', distill=True,
                          epochs=1, n_train=16)
    student_cfg = write_config(root / 'student.py', work_dir=root / 'st',
                               epochs=1, n_train=16)
    cfg = Config.fromfile(kd_cfg)
    RUNNERS.build(cfg).train()
    return dict(root=root, kd_cfg=kd_cfg, student_cfg=student_cfg,
                ckpt=str(root / 'kd' / 'epoch_1.pth'))


def _runner(cfg_path, work_dir, **options):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(options)
    return RUNNERS.build(cfg)


def test_student_config_takes_the_student_of_a_distiller_checkpoint(
        trained, tmp_path):
    runner = _runner(trained['student_cfg'], tmp_path,
                     load_from=trained['ckpt'])
    runner.load_or_resume()
    full = load_checkpoint_file(trained['ckpt'])['state_dict']
    state = runner.model.state_dict()
    assert state  # compared key by key: not the random initialisation
    for key, value in state.items():
        assert torch.equal(value, full['student.' + key]), key


def test_load_from_that_does_not_fit_fails_naming_the_keys(trained, tmp_path):
    runner = _runner(trained['student_cfg'], tmp_path,
                     load_from=trained['ckpt'],
                     **{'model.backbone.widths': (8, 16, 24),
                        'model.head.in_channels': 24})
    with pytest.raises(RuntimeError, match=r'load_from: .* has shape '
                       r'\(32, 16, 3, 3\) in .* but \(24, 16, 3, 3\)'):
        runner.load_or_resume()


def test_test_tool_on_the_kd_config_needs_no_teacher_file(
        trained, tmp_path, monkeypatch):
    out = tmp_path / 'm.json'
    run_main('test.py', trained['kd_cfg'], trained['ckpt'], '--work-dir',
             tmp_path / 'a', '--out', out, '--cfg-options',
             f'model.teacher_ckpt={tmp_path}/placeholder.pth',
             monkeypatch=monkeypatch)
    out_student = tmp_path / 's.json'
    run_main('test.py', trained['student_cfg'], trained['ckpt'],
             '--work-dir', tmp_path / 'b', '--out', out_student,
             monkeypatch=monkeypatch)
    assert out.read_text() == out_student.read_text()
    log = next((tmp_path / 'a').glob('*/*.log')).read_text()
    assert 'randomly initialised' not in log
    log = next((tmp_path / 'b').glob('*/*.log')).read_text()
    assert 'is a distiller checkpoint: loading its student.* weights' in log


def test_resume_after_an_architecture_change_fails_before_training(
        trained, tmp_path, monkeypatch, capsys):
    work = tmp_path / 'w'
    # nothing to resume: mmkd says so, then trains from scratch
    run_main('train.py', trained['student_cfg'], '--work-dir', work,
             '--resume', monkeypatch=monkeypatch)
    assert ('--resume found no checkpoint in' in capsys.readouterr().err)
    assert (work / 'epoch_1.pth').is_file()
    with pytest.raises(RuntimeError) as info:
        run_main('train.py', trained['student_cfg'], '--work-dir', work,
                 '--resume', '--cfg-options', 'train_cfg.max_epochs=2',
                 'model.backbone.widths=(8,16,24)',
                 'model.head.in_channels=24', monkeypatch=monkeypatch)
    assert str(info.value).startswith('--resume: backbone.layer3.0.conv1.'
                                      'weight has shape (32, 16, 3, 3)')
    assert not (work / 'epoch_2.pth').exists()


def test_student_ckpt_may_be_a_distiller_checkpoint(trained):
    cfg = Config.fromfile(trained['kd_cfg'])
    model = MODELS.build(dict(cfg.model, student_ckpt=trained['ckpt']))
    full = load_checkpoint_file(trained['ckpt'])['state_dict']
    for key, value in model.student.state_dict().items():
        assert torch.equal(value, full['student.' + key]), key


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture
def hostile(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _RunsCode(marker)}, path)
    return path, marker


def _check_refused(error, marker, capsys):
    text = str(error) + ''.join(capsys.readouterr())
    cause = error.__cause__ or error.__context__
    if cause is not None and not error.__suppress_context__:
        text += str(cause)
    assert 'mmkd refuses it on purpose because unpickling them could run ' \
        'code' in str(error)
    assert TORCH_ADVICE not in text and 'Re-running' not in text
    assert not marker.exists()


@pytest.mark.parametrize('how', ['test', 'resume', 'load_from',
                                 'teacher_ckpt', 'student_ckpt', 'export',
                                 'visual'])
def test_hostile_checkpoint_is_refused_on_every_path(
        how, trained, hostile, tmp_path, monkeypatch, capsys):
    path, marker = hostile
    work = tmp_path / 'w'
    if how == 'test':
        args = ('test.py', trained['kd_cfg'], path, '--work-dir', work)
    elif how == 'visual':
        args = ('visualizations/vis_similarity.py', trained['kd_cfg'],
                '--teacher-ckpt', path, '--out-dir', tmp_path / 'vis')
    elif how == 'export':
        args = ('model_converters/export_student.py', path, tmp_path / 'o')
    elif how == 'resume':
        args = ('train.py', trained['kd_cfg'], '--work-dir', work,
                '--resume', path)
    else:
        key = {'load_from': 'load_from'}.get(how, f'model.{how}')
        args = ('train.py', trained['kd_cfg'], '--work-dir', work,
                '--cfg-options', f'{key}={path}')
    with pytest.raises(RuntimeError) as info:
        run_main(*args, monkeypatch=monkeypatch)
    _check_refused(info.value, marker, capsys)


def test_config_errors_name_the_file(tmp_path, monkeypatch):
    bad = tmp_path / 'bad_base.py'
    bad.write_text('x = dict(\n')
    top = tmp_path / 'top.py'
    top.write_text("_base_ = ['bad_base.py']\ny = 1\n")
    for tool in ('train.py', 'test.py'):
        extra = (top, ) if tool == 'test.py' else ()  # any existing file
        with pytest.raises(SystemExit) as info:
            run_main(tool, top, *extra, monkeypatch=monkeypatch)
        assert str(info.value) == (
            f"config file {bad}, line 1: '(' was never closed; fix the "
            'Python syntax there.')
    for tool in ('train.py', 'visualizations/vis_similarity.py',
                 'analysis/get_complexity.py'):
        with pytest.raises(SystemExit) as info:
            run_main(tool, tmp_path / 'nope.py', monkeypatch=monkeypatch)
        assert str(info.value) == (
            f"config {str(tmp_path / 'nope.py')!r} does not exist; check "
            'the path (relative paths start at the directory you run the '
            'tool from).')


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks a CPU machine')
def test_amp_without_gpu_fails_before_the_build(trained, tmp_path,
                                                monkeypatch):
    with pytest.raises(SystemExit) as info:
        run_main('train.py', trained['kd_cfg'], '--amp', '--work-dir',
                 tmp_path / 'w', monkeypatch=monkeypatch)
    assert str(info.value) == ('--amp needs a GPU (mixed precision runs on '
                               'CUDA/NPU/MLU devices) and this machine has '
                               'none; drop --amp.')
    assert not (tmp_path / 'w').exists()


def test_mmkd_message_is_printed_once(trained, tmp_path):
    cfg = Config.fromfile(trained['kd_cfg'])
    with pytest.raises(FileNotFoundError) as info:
        MODELS.build(dict(cfg.model, teacher_ckpt=str(tmp_path / 'no.pth')))
    # no chained inner copy of the same sentence under the wrapped one
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert str(info.value).startswith("model.teacher_ckpt: checkpoint '")


def test_scope_prefixed_config_path_builds_as_a_teacher():
    from mmkd.models.algorithms.classifier import build_classifier
    model = build_classifier('mmpretrain::resnet/resnet18_8xb16_cifar10.py',
                             'model.teacher')
    assert type(model.backbone).__name__ == 'ResNet_CIFAR'
    assert model.backbone.depth == 18 and model.head.num_classes == 10


def test_exported_student_loads_in_mmpretrain_and_infers(
        trained, tmp_path, monkeypatch):
    import numpy as np
    from mmengine.registry import DefaultScope
    from mmpretrain.apis import ImageClassificationInferencer, init_model
    from PIL import Image
    dst = tmp_path / 'student.pth'
    run_main('model_converters/export_student.py', trained['ckpt'], dst,
             monkeypatch=monkeypatch)
    cfg_path = str(tmp_path / 'student.py')
    assert osp.isfile(cfg_path)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = init_model(cfg_path, str(dst), device='cpu')
    full = load_checkpoint_file(trained['ckpt'])['state_dict']
    state = model.state_dict()
    assert set(state) == {k[8:] for k in full if k.startswith('student.')}
    for key, value in state.items():
        assert torch.equal(value, full['student.' + key]), key
    image = tmp_path / 'img.png'
    Image.fromarray(np.random.RandomState(0).randint(
        0, 255, (32, 32, 3), dtype=np.uint8)).save(image)
    inferencer = ImageClassificationInferencer(cfg_path, pretrained=str(dst),
                                               device='cpu')
    result = inferencer(str(image))[0]
    assert len(result['pred_scores']) == 10
    assert result['pred_label'] == int(np.argmax(result['pred_scores']))
    assert abs(float(np.sum(result['pred_scores'])) - 1) < 1e-4


def test_student_only_checkpoint_with_the_distiller_config_is_refused(
        trained, tmp_path):
    student = tmp_path / 'student.pth'
    full = load_checkpoint_file(trained['ckpt'])['state_dict']
    torch.save({'state_dict': {k[8:]: v for k, v in full.items()
                               if k.startswith('student.')}}, student)
    runner = _runner(trained['kd_cfg'], tmp_path / 'w',
                     load_from=str(student))
    with pytest.raises(RuntimeError, match="holds no student.* weights, so "
                       'it is not a checkpoint of this '
                       "SingleTeacherDistiller .*test it with the student's "
                       'own config'):
        runner.load_or_resume()
