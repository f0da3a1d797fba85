"""Multi-stage pipelines: chaining, skipping finished stages, resuming."""
import json

import pytest
import torch
from mmengine.config import Config

from mmkd.engine import check_stages, format_summary, run_pipeline
from mmkd.utils.checkpoint import load_checkpoint_file

from test_engine._tiny_configs import write_config


def _pipeline(tmp_path, kd_epochs=1, n_train=64):
    write_config(tmp_path / 'teacher.py', work_dir=tmp_path / 'unused',
                 epochs=1, n_train=n_train)
    write_config(tmp_path / 'kd.py', work_dir=tmp_path / 'unused',
                 distill=True, epochs=kd_epochs, n_train=n_train)
    # the tiny KD teacher is wider than the tiny classifier: make the
    # teacher stage train that architecture
    text = (tmp_path / 'teacher.py').read_text().replace(
        "'widths': (8, 16, 32)", "'widths': (16, 32, 64)").replace(
        "'in_channels': 32", "'in_channels': 64")
    (tmp_path / 'teacher.py').write_text(text)
    path = tmp_path / 'pipe.py'
    path.write_text(f"""
stages = [
    dict(name='teacher', config='teacher.py'),
    dict(name='kd', config='kd.py',
         cfg_options={{'model.teacher_ckpt': '{{teacher}}'}}),
]
work_dir = {str(tmp_path / 'work')!r}
""")
    return Config.fromfile(str(path))


def test_stages_chain_skip_and_resume(tmp_path):
    logs = []
    cfg = _pipeline(tmp_path)
    summaries = run_pipeline(cfg, runner_type='KDRunner', log=logs.append)
    assert [s['name'] for s in summaries] == ['teacher', 'kd']
    assert not any(s['skipped'] for s in summaries)
    # the kd stage's teacher is the teacher stage's final checkpoint
    teacher = load_checkpoint_file(summaries[0]['checkpoint'])['state_dict']
    kd = load_checkpoint_file(summaries[1]['checkpoint'])['state_dict']
    for key, value in teacher.items():
        assert torch.equal(kd['teacher.' + key], value), key
    done = json.loads((tmp_path / 'work' / 'kd' /
                       'stage_done.json').read_text())
    assert 'accuracy/top1' in done['metrics'] and done['wall_time_s'] > 0
    table = format_summary(summaries)
    assert table.splitlines()[0].split()[:2] == ['stage', 'accuracy/top1']
    assert 'teacher' in table and 'kd' in table

    # a second run skips both stages
    logs.clear()
    again = run_pipeline(cfg, runner_type='KDRunner', log=logs.append)
    assert all(s['skipped'] for s in again)
    assert sum('already finished' in line for line in logs) == 2

    # a stage that stopped before finishing (work dir with a last
    # checkpoint, no done marker) resumes instead of starting over
    (tmp_path / 'work' / 'kd' / 'stage_done.json').unlink()
    cfg = _pipeline(tmp_path, kd_epochs=2)
    logs.clear()
    summaries = run_pipeline(cfg, runner_type='KDRunner', log=logs.append)
    assert any("stage 'kd': resuming" in line for line in logs)
    assert summaries[1]['checkpoint'].endswith('epoch_2.pth')
    log_files = sorted((tmp_path / 'work' / 'kd').glob('*/*.log'))
    assert 'resumed epoch: 1' in log_files[-1].read_text()


@pytest.mark.parametrize('stages, message', [
    ([], 'non-empty list'),
    ([dict(name='a')], 'must be dict(name=..., config=...)'),
    ([dict(name='a', config='x.py'), dict(name='a', config='y.py')],
     'must be unique'),
    ([dict(name='a', config='x.py', cfg_option={})], "unknown keys"),
    ([dict(name='a', config='x.py',
           cfg_options={'model.teacher_ckpt': '{b}'})],
     'refers to {b}, which is not an earlier stage'),
])
def test_bad_stages_are_refused(stages, message):
    with pytest.raises(ValueError) as info:
        check_stages(Config(dict(stages=stages)))
    assert message in str(info.value)


def test_missing_stage_config_fails_before_any_stage_runs(tmp_path):
    cfg = _pipeline(tmp_path)
    cfg.stages.append(dict(name='later', config='missing.py'))
    with pytest.raises(FileNotFoundError, match="stage 'later': config "
                       "'missing.py' not found"):
        run_pipeline(cfg, runner_type='KDRunner', log=lambda x: None)
    assert not (tmp_path / 'work').exists()


@pytest.mark.parametrize('option, value, message', [
    ('model.distill_losses.loss_kd.type', 'KDLos', "KDLos"),
    ('model.taps.s_feat', 'student.backbone.layer9',
     'student.backbone.layer9'),
    ('train_dataloader.dataset.data_file', '/nonexistent/mini.npz',
     "train_dataloader.dataset.data_file='/nonexistent/mini.npz' does not "
     'exist'),
])
def test_last_stage_is_built_before_the_first_trains(tmp_path, option, value,
                                                      message):
    cfg = _pipeline(tmp_path)
    cfg.stages[1]['cfg_options'][option] = value
    with pytest.raises(Exception) as info:
        run_pipeline(cfg, runner_type='KDRunner', log=lambda x: None)
    text = info.value.args[0]  # KeyError's str() adds quotes
    assert text.startswith("stage 'kd': ") and message in text
    assert not (tmp_path / 'work' / 'teacher').exists()


def test_rerun_with_other_settings_is_refused_naming_the_change(tmp_path):
    cfg = _pipeline(tmp_path, n_train=16)
    run_pipeline(cfg, runner_type='KDRunner', log=lambda x: None)
    logs = []
    again = run_pipeline(cfg, runner_type='KDRunner', log=logs.append)
    assert all(s['skipped'] for s in again)
    with pytest.raises(RuntimeError) as info:
        run_pipeline(cfg, {'train_cfg.max_epochs': 3},
                     runner_type='KDRunner', log=logs.append)
    assert str(info.value).startswith(
        f"stage 'teacher' in {tmp_path / 'work' / 'teacher'} finished with "
        'other settings (train_cfg.max_epochs: 1 -> 3): to run it again')
    # the last stage alone changed: the teacher is kept, kd is refused
    cfg.stages[1]['cfg_options']['model.distill_losses.loss_kd.tau'] = 2
    with pytest.raises(RuntimeError, match=r"stage 'kd' .* finished with "
                       r'other settings \(model.distill_losses.loss_kd.tau: '
                       r'4 -> 2\)'):
        run_pipeline(cfg, runner_type='KDRunner', log=logs.append)
    # a finished stage after one that must run again is refused too
    import shutil
    shutil.rmtree(tmp_path / 'work' / 'teacher')
    with pytest.raises(RuntimeError, match="stage 'kd' finished but the "
                       "earlier stage 'teacher' has not"):
        run_pipeline(cfg, runner_type='KDRunner', log=logs.append)


def _pipeline_configs():
    import glob
    import os.path as osp

    from conftest import REPO_ROOT
    paths = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', '*',
                                      'pipeline_*.py')))
    return [osp.relpath(p, REPO_ROOT) for p in paths]


@pytest.mark.parametrize('path', _pipeline_configs())
def test_every_pipeline_config_passes_the_up_front_check(path, monkeypatch):
    """Each stage of every shipped pipeline builds with the checkpoints of
    earlier stages still to come (teachers trained outside the pipeline are
    stubbed; data paths are the user's)."""
    import os.path as osp

    import mmkd.engine.pipeline as pipeline
    import mmkd.models.algorithms.teachers as teachers
    from conftest import REPO_ROOT
    monkeypatch.setattr(teachers, 'load_model_weights', lambda *a: None)
    monkeypatch.setattr(pipeline, 'check_data_paths', lambda cfg: None)
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    stages = check_stages(cfg)
    base = osp.dirname(cfg.filename)
    marks = {s['name']: f'<output of stage {s["name"]}>' for s in stages}
    for stage in stages:
        stage_cfg = pipeline._stage_config(stage, base, marks, {})
        pipeline._check_stage(stage['name'], stage_cfg, list(marks.values()))
