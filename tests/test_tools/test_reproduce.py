"""tools/reproduce.py: configs x seeds, the table checked against the runs'
own logs, an interrupted table completed without repeating finished runs.

Two quickstart configs (ResNet-8 w8, ResNet-20) x seeds 0 and 1 train for
2 epochs of 100 training images (batch 10) and are validated on 100 test
images, so each run takes seconds and the seeds give different top-1s.
"""
import importlib.util
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

CONFIGS = ['configs/quickstart/resnet8-w8_1xb64_cifar10mini.py',
           'configs/quickstart/resnet20_1xb64_cifar10mini.py']
TINY = [
    'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
    'param_scheduler.T_max=2', 'train_dataloader.batch_size=10',
    # every 50th training image and every 30th test image: all 10 classes
    'train_dataloader.dataset.indices=[' + ','.join(
        str(i) for i in range(0, 5000, 50)) + ']',
    'val_dataloader.dataset.indices=[' + ','.join(
        str(i) for i in range(0, 3000, 30)) + ']',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.checkpoint.max_keep_ckpts=2',
]
spec = importlib.util.spec_from_file_location(
    'reproduce', osp.join(REPO_ROOT, 'tools', 'reproduce.py'))
reproduce = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reproduce)


def run_reproduce(work_dir, *extra):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, 'tools/reproduce.py', *CONFIGS, '--seeds', '0', '1',
         '--gpus', '0', '--jobs', '2', '--work-dir', str(work_dir),
         *extra, '--cfg-options', *TINY],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def run_dirs(work_dir):
    """``{(config stem, seed): run dir}`` found on disk."""
    found = {}
    for key in os.listdir(work_dir):
        for seed in (0, 1):
            path = osp.join(work_dir, key, f'seed{seed}')
            if osp.isdir(path):
                found[(key.split('+')[0], seed)] = path
    return found


def val_top1(run_dir):
    """The run's validation top-1 per epoch, straight from its logs."""
    values = {}
    for stamp in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            for line in open(path):
                record = json.loads(line)
                if 'accuracy/top1' in record:
                    values[record['step']] = record['accuracy/top1']
    return values


@pytest.fixture(scope='module')
def table(tmp_path_factory):
    work = tmp_path_factory.mktemp('reproduce')
    proc = run_reproduce(work)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return work, proc.stdout


def test_table_matches_the_runs_logs(table):
    work, stdout = table
    dirs = run_dirs(work)
    assert len(dirs) == 4
    with open(work / 'results.json') as f:
        record = json.load(f)
    assert record['seeds'] == [0, 1]
    assert record['cfg_options'] == TINY
    rows = {osp.basename(r['config']): r for r in record['rows']}
    assert sorted(rows) == sorted(osp.basename(c) for c in CONFIGS)
    for config in CONFIGS:
        stem = osp.splitext(osp.basename(config))[0]
        last, best = [], []
        for seed in (0, 1):
            run_dir = dirs[(stem, seed)]
            # each run trained with its own seed
            dumped = open(osp.join(run_dir, stem + '.py')).read()
            assert f'seed={seed}' in dumped
            per_epoch = val_top1(run_dir)
            assert sorted(per_epoch) == [1, 2]
            last.append(per_epoch[2])
            best.append(max(per_epoch.values()))
        row = rows[osp.basename(config)]
        assert row['n'] == 2 and row['published'] is None
        assert row['mean'] == pytest.approx(statistics.mean(last), abs=1e-4)
        assert row['std'] == pytest.approx(statistics.stdev(last), abs=1e-4)
        assert row['best_mean'] == pytest.approx(statistics.mean(best),
                                                 abs=1e-4)
        line = next(x for x in stdout.splitlines()
                    if x.startswith(f'| {stem} |'))
        cells = [c.strip() for c in line.strip('|').split('|')]
        assert cells[1] == '-'  # nothing published for the quickstart
        assert cells[2] == (f'{statistics.mean(last):.2f} ± '
                            f'{statistics.stdev(last):.2f} (n=2)')
        assert cells[4] == (f'{statistics.mean(best):.2f} ± '
                            f'{statistics.stdev(best):.2f}')
        assert '`train_cfg.max_epochs=2`' in cells[5]
    assert (work / 'results.md').read_text().strip() in stdout


def test_rerun_completes_without_repeating_finished_runs(table, tmp_path):
    source, _ = table
    work = tmp_path / 'again'
    shutil.copytree(source, work)
    dirs = run_dirs(work)
    # resnet8-w8 seed 1 was interrupted after its first epoch ...
    cut = dirs[('resnet8-w8_1xb64_cifar10mini', 1)]
    os.remove(osp.join(cut, reproduce.DONE_FILE))
    os.remove(osp.join(cut, 'epoch_2.pth'))
    with open(osp.join(cut, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(cut, 'epoch_1.pth'))
    # ... and resnet20 seed 1 never started
    shutil.rmtree(dirs[('resnet20_1xb64_cifar10mini', 1)])
    finished = [dirs[('resnet8-w8_1xb64_cifar10mini', 0)],
                dirs[('resnet20_1xb64_cifar10mini', 0)]]
    before = {d: sorted(os.listdir(d)) for d in finished}
    proc = run_reproduce(work)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.count('finished earlier, skipped') == 2
    assert proc.stdout.count(': resumes in') == 1
    assert proc.stdout.count(': starts in') == 1
    for d in finished:  # nothing new was written there
        assert sorted(os.listdir(d)) == before[d]
    # the resumed run trained epoch 2 only, in a second log dir
    stamps = sorted(s for s in os.listdir(cut)
                    if osp.isfile(osp.join(cut, s, 'vis_data',
                                           'scalars.json')))
    assert len(stamps) == 2
    records = [json.loads(line) for line in open(
        osp.join(cut, stamps[1], 'vis_data', 'scalars.json'))]
    assert {r['epoch'] for r in records if 'epoch' in r} == {2}
    with open(work / 'results.json') as f:
        rows = {osp.basename(r['config']): r
                for r in json.load(f)['rows']}
    for config in CONFIGS:
        assert rows[osp.basename(config)]['n'] == 2


def test_other_options_get_other_work_dirs_and_foreign_runs_are_refused(
        tmp_path):
    plain = reproduce.plan_runs(CONFIGS[:1], [0], [], None, str(tmp_path))
    tiny = reproduce.plan_runs(CONFIGS[:1], [0], TINY, None, str(tmp_path))
    fewer = reproduce.plan_runs(CONFIGS[:1], [0], TINY[:-1], None,
                                str(tmp_path))
    procs = reproduce.plan_runs(CONFIGS[:1], [0], [], 2, str(tmp_path))
    dirs = {r[0]['run_dir'] for r in (plain, tiny, fewer, procs)}
    assert len(dirs) == 4
    assert plain[0]['run_dir'] == str(
        tmp_path / 'resnet8-w8_1xb64_cifar10mini' / 'seed0')
    assert procs[0]['changes'] == ['2 processes (the name says 1)']
    # a run dir that holds a run of another recipe is refused, not reused
    run_dir = tiny[0]['run_dir']
    os.makedirs(run_dir)
    with open(osp.join(run_dir, reproduce.SPEC_FILE), 'w') as f:
        json.dump(dict(config=CONFIGS[0], seed=0, cfg_options=['x=1'],
                       procs=1), f)
    with pytest.raises(SystemExit) as info:
        reproduce.main([CONFIGS[0], '--seeds', '0', '--gpus', '0',
                        '--work-dir', str(tmp_path), '--cfg-options', *TINY])
    assert 'holds a run of' in str(info.value)
    assert 'Nothing was started' in str(info.value)


def test_every_config_is_checked_before_the_first_run(tmp_path):
    kd = 'configs/quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py'
    with pytest.raises(SystemExit) as info:
        reproduce.main([CONFIGS[0], kd, 'nosuchmethod', '--gpus', '0',
                        '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                        'model.backbone.depth=7'])
    message = str(info.value)
    assert message.startswith('Nothing was started')
    assert "'nosuchmethod' is neither a config" in message
    assert (f'{kd}: model.teacher_ckpt=' in message
            and 'python tools/train.py '
            'configs/quickstart/resnet20_1xb64_cifar10mini.py' in message)
    assert f'{CONFIGS[0]}: its model does not build' in message
    assert not (tmp_path / 'w').exists()


def test_dry_run_lists_the_runs_and_their_cost(tmp_path, capsys):
    reproduce.main([CONFIGS[0], '--seeds', '0', '1', '--gpus', '0',
                    '--work-dir', str(tmp_path), '--dry-run',
                    '--time-iters', '2', '--cfg-options', *TINY])
    out = capsys.readouterr().out
    assert out.startswith('2 runs (1 configs x 2 seeds)')
    assert out.count('[new]: tools/train.py') == 2
    # 2 timed iterations x 10 iterations per epoch (100 images, batch 10)
    assert 'ms/iter x 10 iters x 2 epochs' in out
    assert 'estimated cost:' in out and 'for 2 runs still to do' in out
    assert not any(osp.isdir(osp.join(tmp_path, d))
                   for d in os.listdir(tmp_path))


def test_read_top1_merges_a_resumed_run(tmp_path):
    for stamp, records in (
            ('20260101_000000', [(1, 10.0), (2, 30.0), (3, 20.0)]),
            ('20260102_000000', [(3, 25.0), (4, 22.0)])):
        os.makedirs(tmp_path / stamp / 'vis_data')
        with open(tmp_path / stamp / 'vis_data' / 'scalars.json', 'w') as f:
            for epoch, top1 in records:
                f.write(json.dumps({'loss': 1.0, 'epoch': epoch,
                                    'step': epoch}) + '\n')
                f.write(json.dumps({'accuracy/top1': top1,
                                    'step': epoch}) + '\n')
    assert reproduce.read_top1(str(tmp_path)) == dict(
        last_epoch=4, last=22.0, best_epoch=2, best=30.0)


def test_summary_against_a_published_figure():
    runs = [dict(config='configs/kd/kd_resnet56_resnet20_1xb64_cifar100.py',
                 key='kd_resnet56_resnet20_1xb64_cifar100', seed=s,
                 changes=[], run_dir=f'w/seed{s}',
                 result=dict(last_epoch=240, last=last, best_epoch=200,
                             best=best))
            for s, last, best in ((0, 70.0, 70.5), (1, 71.0, 71.5))]
    rows = reproduce.summarize(runs, reproduce.load_entries(REPO_ROOT))
    assert rows[0]['published'] == 70.66  # configs/kd/metafile.yml
    assert rows[0]['mean'] == 70.5
    assert rows[0]['std'] == pytest.approx(0.7071, abs=1e-4)
    assert rows[0]['diff'] == pytest.approx(-0.16)
    line = reproduce.format_table(rows, [0, 1]).splitlines()[-1]
    assert line == ('| kd_resnet56_resnet20_1xb64_cifar100 | 70.66 | '
                    '70.50 ± 0.71 (n=2) | -0.16 | 71.00 ± 0.71 | none |')


def test_repdistiller_table_lists_published_cifar100_configs():
    table = 'benchmarks/tables/repdistiller_cifar100.txt'
    configs, problems = reproduce.resolve_targets([table])
    assert not problems and len(configs) == 71
    entries = reproduce.load_entries(REPO_ROOT)
    for config in configs:
        assert osp.isfile(osp.join(REPO_ROOT, config)), config
        value, source = reproduce.published_top1(entries[config])
        assert value is not None and 'RepDistiller' in source, config
        assert entries[config]['Metadata']['Training Data'] == 'CIFAR-100'
    # a directory and a collection name select the same configs
    by_dir, _ = reproduce.resolve_targets(['dkd'])
    by_name, _ = reproduce.resolve_targets(['DKD'])
    assert by_dir == by_name and len(by_dir) == 7
    assert reproduce.resolve_targets(['dkd'], match='cifar100')[0] == [
        c for c in by_dir if c.endswith('_cifar100.py')]


def test_pipelines_are_read_from_their_last_stage_and_searches_refused():
    subdir, problems = reproduce.check_config(
        'configs/quickstart/pipeline_kd_resnet20_resnet8-w8_cifar10mini.py',
        {})
    assert (subdir, problems) == ('student_kd', [])
    search = 'configs/diswot/diswot_resnet20_s1-evolution_cifar10mini.py'
    _, problems = reproduce.check_config(search, {})
    assert problems == [f'{search}: is a search, not a training; run it '
                        'with tools/search.py.']
    # a stage filled from an earlier stage's checkpoint keeps none of it
    stage = dict(name='ce', config='x.py', cfg_options={
        'model.init_cfg.type': 'Pretrained',
        'model.init_cfg.checkpoint': '{init}', 'train_cfg.max_epochs': 3})
    assert reproduce.static_stage_options(stage) == {
        'train_cfg.max_epochs': 3}


def test_one_line_per_missing_teacher():
    ckpt = 'work_dirs/resnet56_1xb64_cifar100/epoch_240.pth'
    problems = [reproduce.MissingTeacher(ckpt, 'configs/kd/a.py'),
                'configs/x.py: something else.',
                reproduce.MissingTeacher(ckpt, "configs/ft/b.py (stage 'ft')"),
                reproduce.MissingTeacher(ckpt, "configs/ft/b.py (stage 'p')")]
    assert reproduce.merge_teacher_problems(problems) == [
        f"model.teacher_ckpt='{ckpt}' does not exist; 2 configs need it "
        '(configs/kd/a.py, ...); train it first (python tools/train.py '
        'configs/cifar_models/resnet56_1xb64_cifar100.py).',
        'configs/x.py: something else.']
