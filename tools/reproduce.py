"""Reproduce a table: train configs x seeds, compare with the published top-1.

    python tools/reproduce.py TARGET [TARGET ...] [--seeds 0 1 2]
        [--gpus G] [--jobs J] [--procs-per-run N] [--match REGEX]
        [--work-dir work_dirs/reproduce] [--cfg-options k=v ...]
        [--out results.json] [--dry-run [--time-iters K]]

A TARGET is a config (``.py``), a metafile or ``model-index.yml``
(``.yml``: every config it lists), a list file (``.txt``: one config path a
line, ``#`` comments; e.g. ``benchmarks/tables/repdistiller_cifar100.txt``),
or a name: a directory under ``configs/`` (``kd``) or a collection of the
model index (``KD``).

Every config x seed runs ``tools/train.py`` (``tools/dist_train.sh`` when a
run has several processes) in its own work dir,
``<work-dir>/<config>/seed<k>``, with ``randomness.seed=k``. A run uses as
many processes as its name's ``NxbB`` says (one GPU each with ``--gpus G``;
``G // N`` runs at a time), so the recipe's total batch is kept;
``--procs-per-run`` changes that and is recorded as a recipe change. On
CPU (``--gpus 0``), ``--jobs J`` runs at a time.

A finished run (``reproduce_done.json``) is skipped; an interrupted one
resumes from its last checkpoint (``tools/train.py --resume``). Runs with
``--cfg-options`` (or another ``--procs-per-run``) get their own work dirs,
``<config>+<hash>`` (the hash of those options), so they never reuse runs
of another recipe; a run dir whose recorded options differ is refused.

Read from each run's ``vis_data/scalars.json``: the top-1 after the last
epoch (RepDistiller's convention, the figure compared) and, labelled, the
best validated epoch. The markdown table (config, published, mmkd mean +-
std over seeds, difference, best epoch, recipe changes) is printed and
written with a JSON record (``--out``). Every config is checked before the
first run starts. ``--dry-run`` lists the runs and estimates their cost
from ``--time-iters`` timed training iterations per config.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import os.path as osp
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from mmkd.utils.model_index import (INDEX_FILE, load_entries,  # noqa: E402
                                    metafile_paths, published_top1,
                                    read_yaml)

SPEC_FILE = 'reproduce.json'
DONE_FILE = 'reproduce_done.json'
LOG_FILE = 'reproduce.log'
METRIC = 'accuracy/top1'


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Train configs x seeds and compare with the published '
        'top-1 (markdown table + JSON)')
    parser.add_argument('targets', nargs='+', help='configs (.py), '
                        'metafiles (.yml), list files (.txt), config '
                        'directories or collection names')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--gpus', type=int, default=None,
                        help='GPUs to use (default: all visible; 0 = CPU)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at a time on CPU (--gpus 0)')
    parser.add_argument('--procs-per-run', type=int, default=None,
                        help="processes per run (default: N of the name's "
                        'NxbB); a different N is a recipe change')
    parser.add_argument('--match', help='only configs whose name matches '
                        'this regular expression')
    parser.add_argument('--work-dir', default='work_dirs/reproduce')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE', help='passed to every run; '
                        'recorded and shown as recipe changes')
    parser.add_argument('--out', help='JSON results (default: '
                        '<work-dir>/results.json; the table goes beside it '
                        'as .md)')
    parser.add_argument('--dry-run', action='store_true',
                        help='list the runs and their estimated cost')
    parser.add_argument('--time-iters', type=int, default=5,
                        help='iterations timed per config for --dry-run '
                        '(0: no estimate)')
    parser.add_argument('--metric', default=METRIC)
    return parser.parse_args(args)


# ------------------------------------------------------------ targets
def _rel(path):
    return osp.normpath(osp.relpath(osp.abspath(path), REPO))


def _find(path):
    """``path`` as given (from the working dir) or from the repo root."""
    for candidate in (path, osp.join(REPO, path)):
        if osp.exists(candidate):
            return candidate
    return None


def resolve_targets(targets, match=None):
    """Config paths (relative to the repo) in order, without repeats."""
    configs, problems = [], []
    for target in targets:
        found = _find(target)
        if target.endswith('.py'):
            if found is None:
                problems.append(f'{target}: no such config.')
            else:
                configs.append(_rel(found))
        elif target.endswith(('.yml', '.yaml')):
            if found is None:
                problems.append(f'{target}: no such metafile.')
                continue
            data = read_yaml(found)
            files = ([osp.join(REPO, p) for p in data['Import']]
                     if 'Import' in data else [found])
            for metafile in files:
                configs += [osp.normpath(m['Config'])
                            for m in read_yaml(metafile).get('Models') or []]
        elif target.endswith('.txt'):
            if found is None:
                problems.append(f'{target}: no such list file.')
                continue
            with open(found) as f:
                for line in f:
                    line = line.split('#')[0].strip()
                    if line:
                        configs.append(osp.normpath(line))
        else:
            configs += _named(target, problems)
    if match:
        configs = [c for c in configs
                   if re.search(match, osp.splitext(osp.basename(c))[0])]
    unique = list(dict.fromkeys(configs))
    return unique, problems


def _named(name, problems):
    directory = osp.join(REPO, 'configs', name)
    if osp.isdir(directory) and name != '_base_':
        return [_rel(p) for p in sorted(glob.glob(osp.join(directory,
                                                           '*.py')))]
    collections = {}
    for path in metafile_paths(REPO):
        data = read_yaml(osp.join(REPO, path))
        for model in data.get('Models') or []:
            collections.setdefault(model['In Collection'].lower(),
                                   []).append(osp.normpath(model['Config']))
    if name.lower() in collections:
        return collections[name.lower()]
    dirs = sorted(osp.basename(d.rstrip('/')) for d in glob.glob(
        osp.join(REPO, 'configs', '*', '')) if '_base_' not in d)
    problems.append(f'{name!r} is neither a config, a metafile, a list file, '
                    f'a directory under configs/ ({", ".join(dirs)}) nor a '
                    f'collection in {INDEX_FILE}.')
    return []


# ------------------------------------------------------------ runs
def parse_options(options):
    """``['a.b=1', ...]`` as mmengine's ``--cfg-options`` dict."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o'] + list(options)).o if options else {}


def name_processes(config):
    """N of the config name's ``NxbB`` field (1 if it has none)."""
    found = re.search(r'_(\d+)xb\d+', osp.basename(config))
    return int(found.group(1)) if found else 1


def recipe_changes(config, options, procs_per_run):
    """What differs from the config's own recipe (recorded and shown)."""
    changes = list(options)
    procs = name_processes(config)
    if procs_per_run is not None and procs_per_run != procs:
        changes.append(f'{procs_per_run} processes (the name says {procs})')
    return changes


def run_key(config, changes):
    """Work dir name: the config, plus a hash of any recipe change."""
    stem = osp.splitext(osp.basename(config))[0]
    if not changes:
        return stem
    digest = hashlib.sha1(json.dumps(changes).encode()).hexdigest()[:8]
    return f'{stem}+{digest}'


def _load(config, options):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, config))
    if options:
        cfg.merge_from_dict(options)
    return cfg


class MissingTeacher(str):
    """A problem message that also knows the checkpoint and the config
    (so that one line per checkpoint can be shown)."""

    def __new__(cls, ckpt, where):
        stem = osp.basename(osp.dirname(ckpt))
        teachers = sorted(glob.glob(osp.join(REPO, 'configs', '*',
                                             f'{stem}.py')))
        how = (f'train it first (python tools/train.py '
               f'{_rel(teachers[0])})' if teachers else
               'put the teacher checkpoint there')
        self = super().__new__(
            cls, f'{where}: model.teacher_ckpt={ckpt!r} does not exist; '
            f'{how} or pass --cfg-options model.teacher_ckpt=PATH.')
        self.ckpt, self.where, self.how = ckpt, where, how
        return self


def _missing_teacher(cfg, where):
    ckpt = (cfg.get('model') or {}).get('teacher_ckpt')
    if isinstance(ckpt, str) and not osp.isfile(osp.join(REPO, ckpt)):
        return MissingTeacher(ckpt, where)
    return None


def merge_teacher_problems(problems):
    """One line per missing teacher checkpoint, naming its configs."""
    missing = {}
    for problem in problems:
        if isinstance(problem, MissingTeacher):
            missing.setdefault(problem.ckpt, []).append(problem)
    lines, shown = [], set()
    for problem in problems:
        if not isinstance(problem, MissingTeacher):
            lines.append(problem)
            continue
        if problem.ckpt in shown:
            continue
        shown.add(problem.ckpt)
        users = list(dict.fromkeys(p.where.split(' ')[0]
                                   for p in missing[problem.ckpt]))
        lines.append(problem if len(users) == 1 else (
            f'model.teacher_ckpt={problem.ckpt!r} does not exist; '
            f'{len(users)} configs need it ({users[0]}, ...); '
            f'{problem.how}.'))
    return lines


def static_stage_options(stage):
    """A pipeline stage's ``cfg_options`` without those filled from an
    earlier stage's checkpoint (``'{teacher}'``) and their siblings (an
    ``init_cfg`` without its checkpoint would not build)."""
    options = stage.get('cfg_options') or {}
    filled = [k.rsplit('.', 1)[0] + '.' for k, v in options.items()
              if '{' in str(v)]
    return {k: v for k, v in options.items()
            if not any(k.startswith(p) for p in filled)}


def check_config(config, options):
    """``(result_subdir, problems)`` for one config: loads, is a training,
    has its data and teacher. ``result_subdir`` is where the final run
    writes its logs inside the run dir ('' or a pipeline's last stage)."""
    from mmkd.utils.config_checks import check_data_paths
    if not osp.isfile(osp.join(REPO, config)):
        return '', [f'{config}: no such config (listed by a target).']
    try:
        cfg = _load(config, options)
    except Exception as e:  # noqa: BLE001 - shown to the user
        return '', [f'{config}: does not load with the options '
                    f'({type(e).__name__}: {e}).']
    if cfg.get('stages') is not None:
        from mmkd.engine import check_stages
        try:
            stages = check_stages(cfg)
        except ValueError as e:
            return '', [f'{config}: {e}']
        problems = []
        for stage in stages:
            if not isinstance(stage['config'], str):
                continue
            path = osp.join(osp.dirname(config), stage['config'])
            if not osp.isfile(osp.join(REPO, path)):
                problems.append(f"{config}: stage {stage['name']!r} names "
                                f"{stage['config']}, which does not exist.")
                continue
            stage_cfg = _load(path, static_stage_options(stage))
            if 'model.teacher_ckpt' not in (stage.get('cfg_options') or {}):
                problem = _missing_teacher(
                    stage_cfg, f"{config} (stage {stage['name']!r})")
                if problem:
                    problems.append(problem)
        return stages[-1]['name'], problems
    if (cfg.get('train_cfg') or {}).get('type') == 'SearchLoop':
        return '', [f'{config}: is a search, not a training; run it with '
                    'tools/search.py.']
    if not cfg.get('train_dataloader') or not cfg.get('val_dataloader'):
        return '', [f'{config}: has no train and val dataloaders, so no '
                    'top-1 to reproduce; list training configs only.']
    problems = []
    try:
        check_data_paths(cfg)
    except FileNotFoundError as e:
        problems.append(f'{config}: {e}')
    problem = _missing_teacher(cfg, config)
    if problem:
        problems.append(problem)
    try:
        _build_model(cfg)
    except Exception as e:  # noqa: BLE001 - shown to the user
        problems.append(f'{config}: its model does not build with the '
                        f'options ({type(e).__name__}: {e}).')
    return '', problems


def _build_model(cfg):
    """Build ``cfg.model`` (teacher weights not loaded) to catch a wrong
    option before hours of other runs."""
    import copy

    from mmengine.registry import init_default_scope

    from mmkd.registry import MODELS
    model = copy.deepcopy(cfg.model)
    if model.get('teacher_ckpt') is not None:
        model['teacher_ckpt'] = None
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    with _quiet():
        MODELS.build(model)


class _quiet:
    """Keep mmengine's INFO lines (weight init) out of the listing."""

    def __enter__(self):
        from mmengine.logging import MMLogger
        self.logger = MMLogger.get_current_instance()
        self.level = self.logger.level
        self.logger.setLevel('WARNING')

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)


def plan_runs(configs, seeds, options, procs_per_run, work_dir):
    """One dict per config x seed (nothing is started)."""
    runs = []
    for config in configs:
        changes = recipe_changes(config, options, procs_per_run)
        key = run_key(config, changes)
        for seed in seeds:
            runs.append(dict(
                config=config, seed=seed, key=key, changes=changes,
                options=list(options),
                procs=procs_per_run or name_processes(config),
                run_dir=osp.join(work_dir, key, f'seed{seed}')))
    return runs


def _spec(run):
    return dict(config=run['config'], seed=run['seed'],
                cfg_options=run['changes'], procs=run['procs'])


def run_state(run):
    """'done', 'interrupted', 'new', or a refusal message."""
    spec_path = osp.join(run['run_dir'], SPEC_FILE)
    if osp.isfile(spec_path):
        with open(spec_path) as f:
            recorded = json.load(f)
        if recorded != _spec(run):
            return (f"{run['run_dir']} holds a run of {recorded}, not of "
                    f'{_spec(run)}; pass another --work-dir or delete it.')
    if osp.isfile(osp.join(run['run_dir'], DONE_FILE)):
        return 'done'
    if osp.isdir(run['run_dir']) and os.listdir(run['run_dir']):
        return 'interrupted'
    return 'new'


# ------------------------------------------------------------ results
def read_top1(log_dir, metric=METRIC):
    """Last-epoch and best-epoch ``metric`` of the runs in ``log_dir``.

    Every ``<timestamp>/vis_data/scalars.json`` (a resumed run writes a new
    one) is read oldest first; a later record of an epoch replaces an
    earlier one.
    """
    by_epoch = {}
    for path in sorted(glob.glob(osp.join(log_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if metric in record:
                    by_epoch[int(record['step'])] = float(record[metric])
    if not by_epoch:
        raise RuntimeError(f'{log_dir} logged no {metric} (no validation '
                           'ran; keep val_cfg in the config).')
    last = max(by_epoch)
    best = max(by_epoch, key=lambda e: (by_epoch[e], -e))
    return dict(last_epoch=last, last=by_epoch[last], best_epoch=best,
                best=by_epoch[best])


def _mean_std(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return round(mean, 4), round(std, 4)


def summarize(runs, entries):
    """One row per config: published, last/best mean and std over seeds."""
    rows = {}
    for run in runs:
        row = rows.setdefault(run['key'], dict(
            config=run['config'], changes=run['changes'], runs=[]))
        row['runs'].append(dict(seed=run['seed'], run_dir=run['run_dir'],
                                **(run.get('result') or {}),
                                **({'error': run['error']}
                                   if run.get('error') else {})))
    for row in rows.values():
        entry = entries.get(row['config'])
        value, source = published_top1(entry) if entry else (None, 'none')
        row.update(published=value, source=source)
        done = [r for r in row['runs'] if 'last' in r]
        row['n'] = len(done)
        if done:
            row['mean'], row['std'] = _mean_std([r['last'] for r in done])
            row['best_mean'], row['best_std'] = _mean_std(
                [r['best'] for r in done])
            row['diff'] = (None if value is None
                           else round(row['mean'] - value, 4))
    return list(rows.values())


def format_table(rows, seeds):
    lines = [
        f'Seeds {" ".join(map(str, seeds))}. mmkd last epoch: top-1 after '
        "the final epoch (RepDistiller's convention), mean ± sample std "
        'over the seeds that finished; best epoch: the highest validated '
        'top-1 (selected on the test set; for comparison only).',
        '',
        '| config | published | mmkd last epoch (mean ± std, n) | '
        'difference | mmkd best epoch (mean ± std) | recipe changes |',
        '|---|---|---|---|---|---|']
    for row in rows:
        name = osp.splitext(osp.basename(row['config']))[0]
        published = ('-' if row['published'] is None
                     else f"{row['published']:.2f}")
        if row['n']:
            mmkd = f"{row['mean']:.2f} ± {row['std']:.2f} (n={row['n']})"
            best = f"{row['best_mean']:.2f} ± {row['best_std']:.2f}"
            diff = '-' if row['diff'] is None else f"{row['diff']:+.2f}"
        else:
            mmkd, best, diff = 'no finished run', '-', '-'
        failed = [r for r in row['runs'] if 'error' in r]
        if failed:
            mmkd += f" ({len(failed)} failed: {failed[0]['run_dir']})"
        changes = ', '.join(
            f'`{c if len(c) <= 60 else c[:57] + "..."}`'
            for c in row['changes']) or 'none'
        lines.append(f'| {name} | {published} | {mmkd} | {diff} | {best} | '
                     f'{changes} |')
    return '\n'.join(lines)


def machine():
    try:
        import torch
        device = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
                  else 'CPU')
    except Exception:  # noqa: BLE001
        device = 'unknown'
    return (f'{platform.node()}, {os.cpu_count()} CPU cores, {device}')


# ------------------------------------------------------------ running
def command(run, state):
    # paths from the repository root, where the runs start
    if run['procs'] > 1:
        cmd = ['bash', 'tools/dist_train.sh', run['config'],
               str(run['procs'])]
    else:
        cmd = [sys.executable, 'tools/train.py', run['config']]
    cmd += ['--work-dir', osp.abspath(run['run_dir'])]
    if state == 'interrupted':
        cmd.append('--resume')
    cmd += ['--cfg-options'] + run['options'] + [
        f"randomness.seed={run['seed']}"]
    return cmd


def execute(runs, gpus, jobs, metric, log=print):
    """Run every not-finished run; at most ``jobs`` (CPU) or as many as the
    GPUs hold at a time. Fills ``run['result']`` or ``run['error']``."""
    pending = []
    for run in runs:
        if run['state'] == 'done':
            with open(osp.join(run['run_dir'], DONE_FILE)) as f:
                run['result'] = json.load(f)
            log(f"[reproduce] {run['key']} seed {run['seed']}: finished "
                'earlier, skipped.')
        else:
            pending.append(run)
    free = list(range(gpus))
    active = []  # (process, run, devices, start, log file)
    port = 29500
    while pending or active:
        started = False
        while pending and (len(free) >= pending[0]['procs'] if gpus else
                           len(active) < jobs):
            run = pending.pop(0)
            devices = [free.pop(0) for _ in range(run['procs'])] if gpus \
                else []
            os.makedirs(run['run_dir'], exist_ok=True)
            with open(osp.join(run['run_dir'], SPEC_FILE), 'w') as f:
                json.dump(_spec(run), f, indent=1)
            port += 1
            env = dict(os.environ, PORT=str(port),
                       PYTHONPATH=os.pathsep.join(
                           [REPO, os.environ.get('PYTHONPATH', '')]),
                       CUDA_VISIBLE_DEVICES=','.join(map(str, devices)))
            cmd = command(run, run['state'])
            log(f"[reproduce] {run['key']} seed {run['seed']}: "
                f"{'resumes' if run['state'] == 'interrupted' else 'starts'}"
                f" in {run['run_dir']}"
                + (f" on GPU {','.join(map(str, devices))}" if gpus else ''))
            out = open(osp.join(run['run_dir'], LOG_FILE), 'a')
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
            active.append((proc, run, devices, time.time(), out))
            started = True
        for item in list(active):
            proc, run, devices, start, out = item
            if proc.poll() is None:
                continue
            out.close()
            active.remove(item)
            free += devices
            free.sort()
            _finish(run, proc.returncode, time.time() - start, metric, log)
        if not started:
            time.sleep(0.5)


def _finish(run, returncode, wall, metric, log):
    where = f"[reproduce] {run['key']} seed {run['seed']}"
    if returncode != 0:
        run['error'] = (f'exit status {returncode}; see '
                        f"{osp.join(run['run_dir'], LOG_FILE)}")
        log(f'{where}: failed ({run["error"]}).')
        return
    try:
        result = read_top1(osp.join(run['run_dir'], run['result_subdir']),
                           metric)
    except RuntimeError as e:
        run['error'] = str(e)
        log(f'{where}: {e}')
        return
    result['wall_time_s'] = round(wall, 1)
    run['result'] = result
    with open(osp.join(run['run_dir'], DONE_FILE), 'w') as f:
        json.dump(result, f, indent=1)
    log(f"{where}: top-1 {result['last']:.2f} after epoch "
        f"{result['last_epoch']} (best {result['best']:.2f} at epoch "
        f"{result['best_epoch']}), {wall:.0f} s.")


# ------------------------------------------------------------ dry run
class _Timed(Exception):
    pass


def _time_one(config, options, iters):
    """Seconds per training iteration (one process) and iterations per
    epoch, from ``iters`` iterations after one warm-up iteration."""
    from mmengine.hooks import Hook
    from mmkd.registry import RUNNERS

    class Timer(Hook):
        priority = 'VERY_LOW'

        def __init__(self):
            self.times = []

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.start = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            try:
                import torch
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
            except Exception:  # noqa: BLE001
                pass
            self.times.append(time.perf_counter() - self.start)
            self.per_epoch = len(runner.train_dataloader)
            if len(self.times) > iters:
                raise _Timed

    cfg = _load(config, options)
    if cfg.model.get('teacher_ckpt') is not None:
        cfg.model.teacher_ckpt = None  # a random teacher costs the same
    images = _stand_in_cifar(cfg)
    tmp = tempfile.mkdtemp(prefix='reproduce_timing_')
    cfg.work_dir = tmp
    cfg.resume, cfg.load_from = False, None
    cfg.log_level = 'ERROR'
    epochs = cfg.train_cfg.get('max_epochs') or 1
    timer = Timer()
    try:
        runner = RUNNERS.get(cfg.get('runner_type', 'KDRunner')).from_cfg(cfg)
        runner.register_hook(timer)
        try:
            runner.train()
        except _Timed:
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not timer.times:
        raise RuntimeError('no training iteration ran')
    timed = timer.times[1:] or timer.times
    per_epoch = timer.per_epoch
    if images:
        per_epoch = math.ceil(images / cfg.train_dataloader.batch_size)
    return statistics.median(timed), per_epoch, epochs


# training-set sizes of the datasets mmpretrain downloads
CIFAR_TRAIN_IMAGES = {'CIFAR10': 50000, 'CIFAR100': 50000}


def _stand_in_cifar(cfg):
    """Without the CIFAR files yet, time on the bundled CIFAR-10 subset
    (the same 32x32 images) and count iterations for the real set: returns
    that set's size, or None when its data is there."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and isinstance(dataset.get('dataset'),
                                                   dict):
        dataset = dataset['dataset']
    dtype = str(dataset.get('type', '')).split('.')[-1]
    root = dataset.get('data_root')
    if dtype not in CIFAR_TRAIN_IMAGES or (root and osp.isdir(
            osp.join(REPO, root))):
        return None
    pipeline = dataset.get('pipeline', [])
    dataset.clear()
    dataset.update(type='CIFAR10Mini', split='train', pipeline=pipeline)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    _set_key(cfg.model, 'num_data', 5000)  # CRD's memory bank: one row each
    return CIFAR_TRAIN_IMAGES[dtype]


def _set_key(node, key, value):
    if isinstance(node, dict):
        for name in node:
            if name == key:
                node[name] = value
            else:
                _set_key(node[name], key, value)
    elif isinstance(node, list):
        for item in node:
            _set_key(item, key, value)


def estimate(config, options, iters):
    """Estimated seconds of one run on one process per device, or an
    explanation why there is none."""
    cfg = _load(config, options)
    parts = [(config, options)]
    if cfg.get('stages') is not None:
        parts = []
        for stage in cfg.stages:
            stage_options = static_stage_options(stage)
            stage_options.update(options)
            parts.append((osp.join(osp.dirname(config), stage['config']),
                          stage_options))
    total, notes = 0.0, []
    for path, part_options in parts:
        per_iter, per_epoch, epochs = _time_one(path, part_options, iters)
        total += per_iter * per_epoch * epochs
        notes.append(f'{per_iter * 1000:.0f} ms/iter x {per_epoch} iters x '
                     f'{epochs} epochs')
    if _stand_in_cifar(_load(parts[0][0], parts[0][1])):
        notes.append('timed on the bundled CIFAR-10 subset: the CIFAR files '
                     'are not there yet, 50,000 images counted')
    return total, '; '.join(notes)


def _hours(seconds):
    return (f'{seconds / 3600:.1f} h' if seconds >= 3600 else
            f'{seconds / 60:.1f} min' if seconds >= 60 else
            f'{seconds:.0f} s')


def dry_run(runs, configs_problems, args):
    print(f'{len(runs)} runs ({len({r["key"] for r in runs})} configs x '
          f'{len(args.seeds)} seeds) in {args.work_dir}:')
    for run in runs:
        print(f"  {run['key']} seed {run['seed']} [{run['state']}]: "
              + ' '.join(command(run, run['state'])[1:]))
    for problem in configs_problems:
        print(f'  will fail: {problem}')
    if args.time_iters <= 0:
        return
    costs, seen = {}, {}
    for run in runs:
        if run['key'] in seen:
            continue
        seen[run['key']] = True
        options = parse_options(run['options'])
        options['randomness.seed'] = run['seed']
        try:
            seconds, how = estimate(run['config'], options, args.time_iters)
        except (Exception, SystemExit) as e:  # noqa: BLE001
            print(f"  cost of {run['key']}: unknown ({type(e).__name__}: "
                  f'{e})')
            continue
        # N processes share the iterations of an epoch
        seconds /= run['procs']
        costs[run['key']] = (seconds, run['procs'])
        print(f"  cost of {run['key']}: {_hours(seconds)} per run on "
              f"{run['procs']} device(s) ({how}; timed on one device, "
              'validation not included)')
    todo = [r for r in runs if r['state'] != 'done' and r['key'] in costs]
    device_s = sum(costs[r['key']][0] * costs[r['key']][1] for r in todo)
    slots = args.gpus or args.jobs
    print(f'estimated cost: {_hours(device_s)} of device time for '
          f'{len(todo)} runs still to do; about {_hours(device_s / slots)} '
          f'on {slots} {"GPU" if args.gpus else "CPU job slot"}(s).')


# ------------------------------------------------------------ main
def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.work_dir = osp.abspath(args.work_dir)
    configs, problems = resolve_targets(args.targets, args.match)
    if 'randomness.seed' in ' '.join(args.cfg_options):
        problems.append('--cfg-options sets randomness.seed; use --seeds.')
    try:
        options = parse_options(args.cfg_options)
    except SystemExit:
        raise SystemExit('--cfg-options: each option must be KEY=VALUE.')
    if not configs and not problems:
        problems.append('the targets list no config.')
    gpus = args.gpus
    if gpus is None:
        import torch
        gpus = torch.cuda.device_count()
    args.gpus = gpus
    runs = plan_runs(configs, args.seeds, args.cfg_options,
                     args.procs_per_run, args.work_dir)
    config_problems = []
    subdirs = {}
    for config in configs:
        seed_options = dict(options, **{'randomness.seed': args.seeds[0]})
        subdirs[config], found = check_config(config, seed_options)
        config_problems += found
    stems = [osp.basename(c) for c in configs]
    for stem in {s for s in stems if stems.count(s) > 1}:
        problems.append(f'two configs are named {stem}: '
                        f'{[c for c in configs if osp.basename(c) == stem]}'
                        '; their work dirs would collide, list one.')
    for run in runs:
        run['result_subdir'] = subdirs[run['config']]
        if gpus and run['procs'] > gpus:
            problems.append(f"{run['config']}: a run needs {run['procs']} "
                            f'GPUs, only {gpus} given; pass --gpus '
                            f"{run['procs']} or --procs-per-run.")
        state = run_state(run)
        if state not in ('done', 'interrupted', 'new'):
            problems.append(state)
        run['state'] = state
    problems = list(dict.fromkeys(problems))
    config_problems = merge_teacher_problems(config_problems)
    if args.dry_run:
        for problem in problems:
            print(f'error: {problem}')
        dry_run([r for r in runs if r['state'] in
                 ('done', 'interrupted', 'new')], config_problems, args)
        return
    problems += config_problems
    if problems:
        raise SystemExit('Nothing was started:\n  ' + '\n  '.join(
            dict.fromkeys(problems)))
    started = time.strftime('%Y-%m-%d %H:%M:%S')
    execute(runs, gpus, args.jobs, args.metric)
    rows = summarize(runs, load_entries(REPO))
    table = format_table(rows, args.seeds)
    print('\n' + table)
    out = args.out or osp.join(args.work_dir, 'results.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    record = dict(
        command='python tools/reproduce.py ' + ' '.join(argv),
        targets=args.targets, seeds=args.seeds,
        cfg_options=args.cfg_options, procs_per_run=args.procs_per_run,
        machine=machine(), started=started,
        finished=time.strftime('%Y-%m-%d %H:%M:%S'), metric=args.metric,
        rows=rows)
    with open(out, 'w') as f:
        json.dump(record, f, indent=1)
    with open(osp.splitext(out)[0] + '.md', 'w') as f:
        f.write(table + '\n')
    print(f'\nwritten: {out} and {osp.splitext(out)[0]}.md')
    if any(run.get('error') for run in runs):
        raise SystemExit(1)


if __name__ == '__main__':
    main()
