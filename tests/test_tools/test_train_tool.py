"""tools/train.py, tools/test.py and the export tool, run as a user would."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmkd.registry import MODELS

from conftest import REPO_ROOT
from test_engine._tiny_configs import write_config

# Point a CIFAR-100 recipe at the bundled CIFAR-10 subset, a few iterations.
LOCAL_DATA = [
    'model.teacher_ckpt=None',
    'train_dataloader.dataset.type=CIFAR10Mini',
    'train_dataloader.dataset.data_root=None',
    'train_dataloader.dataset.indices=8',
    'train_dataloader.batch_size=4',
    'train_dataloader.num_workers=0',
    'val_dataloader.dataset.type=CIFAR10Mini',
    'val_dataloader.dataset.data_root=None',
    'val_dataloader.dataset.indices=8',
    'val_dataloader.num_workers=0',
    'data_preprocessor.to_rgb=True',
    'train_cfg.max_epochs=1',
]


def run_tool(*args, cwd=REPO_ROOT):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable] + list(args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_cifar100_kd_recipe_runs_a_few_iterations(tmp_path):
    cfg = Config.fromfile(osp.join(
        REPO_ROOT, 'configs/kd/kd_resnet56_resnet20_1xb64_cifar100.py'))
    # the recipe as published (RepDistiller)
    assert cfg.train_cfg.max_epochs == 240
    assert cfg.optim_wrapper.optimizer.lr == 0.05
    assert cfg.param_scheduler.milestones == [150, 180, 210]
    assert cfg.param_scheduler.gamma == 0.1
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.model.student_loss_weight == 0.1
    kd = cfg.model.distill_losses.loss_kd
    assert (kd.tau, kd.loss_weight) == (4, 0.9)
    work = tmp_path / 'work'
    proc = run_tool('tools/train.py',
                    'configs/kd/kd_resnet56_resnet20_1xb64_cifar100.py',
                    '--work-dir', str(work), '--cfg-options', *LOCAL_DATA)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (work / 'epoch_1.pth').is_file()
    log = next(work.glob('*/*.log')).read_text()
    assert 'loss_kd' in log and 'accuracy/top1' in log


def test_export_student_and_test_tool(tmp_path):
    cfg_path = write_config(tmp_path / 'kd.py', work_dir=tmp_path / 'kd',
                            distill=True, epochs=1)
    proc = run_tool('tools/train.py', cfg_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    src = str(tmp_path / 'kd' / 'epoch_1.pth')
    dst = str(tmp_path / 'student.pth')
    proc = run_tool('tools/model_converters/export_student.py', src, dst)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # refuses to overwrite, and refuses a checkpoint without a student
    proc = run_tool('tools/model_converters/export_student.py', src, dst)
    assert proc.returncode != 0 and '--force' in proc.stderr
    proc = run_tool('tools/model_converters/export_student.py', dst,
                    str(tmp_path / 'again.pth'))
    assert proc.returncode != 0 and 'not a distiller checkpoint' in \
        proc.stderr

    # mmpretrain's ImageClassifier loads it as is, strictly
    cfg = Config.fromfile(cfg_path)
    student = MODELS.build(cfg.model.student)
    load_checkpoint(student, dst, strict=True)
    exported = torch.load(dst, weights_only=True)
    assert set(exported['state_dict']) == set(student.state_dict())
    full = torch.load(src, weights_only=True)['state_dict']
    for key, value in student.state_dict().items():
        assert torch.equal(value, full['student.' + key])

    # tools/test.py on the student alone gives the distiller's accuracy
    student_cfg = tmp_path / 'student_cfg.py'
    student_cfg.write_text(
        cfg_path_text(cfg_path).replace("model = {'type': 'SingleTeacher",
                                        "_unused = {'type': 'SingleTeacher")
        + f'\nmodel = {dict(cfg.model.student)!r}\n')
    out_a, out_b = tmp_path / 'a.json', tmp_path / 'b.json'
    proc = run_tool('tools/test.py', str(student_cfg), dst, '--work-dir',
                    str(tmp_path / 't1'), '--out', str(out_a))
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run_tool('tools/test.py', cfg_path, src, '--work-dir',
                    str(tmp_path / 't2'), '--out', str(out_b))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out_a.read_text() == out_b.read_text()


def cfg_path_text(path):
    with open(path) as f:
        return f.read()


def test_missing_data_root_fails_before_the_work_dir_exists(tmp_path):
    work = tmp_path / 'work'
    proc = run_tool(
        'tools/train.py', 'configs/_base_/datasets/cifar10_folder_bs64.py',
        '--work-dir', str(work), '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}/nope')
    assert proc.returncode != 0
    assert (f"train_dataloader.dataset.data_root='{tmp_path}/nope' does not "
            'exist') in proc.stderr
    assert not work.exists()


def test_too_few_classes_in_the_head_fails_before_training(tmp_path):
    cfg_path = write_config(tmp_path / 'c.py', work_dir=tmp_path / 'w',
                            epochs=1)
    proc = run_tool('tools/train.py', cfg_path, '--cfg-options',
                    'model.head.num_classes=5')
    assert proc.returncode != 0
    assert ('model.head.num_classes=5 but the training set has 10 classes'
            in proc.stderr)
    assert not list((tmp_path / 'w').glob('*.pth'))
    assert not (tmp_path / 'w' / 'last_checkpoint').exists()


def test_plugin_project_trains(tmp_path):
    config = ('projects/example_distiller/configs/'
              'cosine-kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
    proc = run_tool('tools/train.py', config, '--work-dir', str(tmp_path),
                    '--cfg-options', 'model.teacher_ckpt=None',
                    'train_dataloader.dataset.indices=16',
                    'train_dataloader.batch_size=8',
                    'val_dataloader.dataset.indices=16',
                    'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                    'default_hooks.logger.interval=1')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'loss_cos' in log and 'loss_kd' in log


@pytest.mark.parametrize('flag', ['--local-rank', '--local_rank'])
def test_both_local_rank_spellings_are_accepted(flag, tmp_path):
    proc = run_tool('tools/train.py', 'nope.py', flag, '0')
    assert 'unrecognized arguments' not in proc.stderr


def test_quickstart_command_short_schedule(tmp_path):
    """The README's quickstart pipeline, on 64 images for 1 epoch."""
    proc = run_tool(
        'tools/train.py',
        'configs/quickstart/pipeline_kd_resnet20_resnet8-w8_cifar10mini.py',
        '--work-dir', str(tmp_path), '--cfg-options',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'param_scheduler.T_max=1', 'train_dataloader.dataset.indices=64',
        'val_dataloader.dataset.indices=64')
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()[-5:]
    assert lines[0].split() == ['stage', 'accuracy/top1', 'wall', 'time',
                                '(s)']
    assert [line.split()[0] for line in lines[2:]] == [
        'teacher', 'student_alone', 'student_kd']
    for name in ('teacher', 'student_alone', 'student_kd'):
        assert (tmp_path / name / 'stage_done.json').is_file()
    # run again with the same options: every stage is skipped
    options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               'param_scheduler.T_max=1',
               'train_dataloader.dataset.indices=64',
               'val_dataloader.dataset.indices=64']
    proc = run_tool(
        'tools/train.py',
        'configs/quickstart/pipeline_kd_resnet20_resnet8-w8_cifar10mini.py',
        '--work-dir', str(tmp_path), '--cfg-options', *options)
    assert proc.returncode == 0
    assert proc.stdout.count('already finished') == 3
    # the real command after the smoke run: refused, naming the change
    proc = run_tool(
        'tools/train.py',
        'configs/quickstart/pipeline_kd_resnet20_resnet8-w8_cifar10mini.py',
        '--work-dir', str(tmp_path))
    assert proc.returncode != 0
    assert "stage 'teacher'" in proc.stderr
    assert 'finished with other settings' in proc.stderr
    assert 'train_cfg.max_epochs: 1 -> 15' in proc.stderr
