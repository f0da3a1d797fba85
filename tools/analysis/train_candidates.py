"""Ground truth for proxy evaluation: distil searched candidates briefly.

    python tools/analysis/train_candidates.py CANDIDATES TEMPLATE OUT
        [--names 557 777 ... | --sample N [--sample-seed S]]
        [--epochs E] [--teacher-ckpt PATH] [--work-dir DIR]
        [--cfg-options k=v ...]

CANDIDATES is the ``candidates.jsonl`` of a search (``tools/search.py``);
each record holds the candidate's model config. TEMPLATE is a
``SingleTeacherDistiller`` config (e.g. a KD config) whose teacher teaches
every candidate; the candidate replaces its student, as in the search's
``best_student_kd.py``. Each chosen candidate is trained with
``tools/train.py`` in its own work dir (``DIR/<name>``) and its top-1 after
the last epoch (never the best epoch: that would select on the test set) is
written to OUT, a JSON ``{name: accuracy}`` that
``tools/analysis/proxy_correlation.py`` reads as ground truth. OUT is
rewritten after every candidate, and a re-run skips the candidates already
in it, so an interrupted run resumes. Training times go to
``OUT`` with ``.times.json`` appended to its stem.

``--epochs E`` sets ``train_cfg.max_epochs`` (and the validation interval)
and, for a single cosine scheduler, its ``T_max``; other schedules are
changed with ``--cfg-options``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import random
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Distil searched candidates briefly (ground truth for '
        'proxy_correlation.py)')
    parser.add_argument('candidates', help='candidates.jsonl of a search')
    parser.add_argument('template', help='a SingleTeacherDistiller config '
                        'whose student each candidate replaces')
    parser.add_argument('out', help='JSON file {name: top-1} (resumed)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--names', nargs='+', help='candidates to train')
    group.add_argument('--sample', type=int,
                       help='train this many candidates drawn at random')
    parser.add_argument('--sample-seed', type=int, default=0)
    parser.add_argument('--epochs', type=int, help='training epochs')
    parser.add_argument('--teacher-ckpt', help="the template teacher's "
                        'weights (default: the template\'s teacher_ckpt)')
    parser.add_argument('--work-dir', help='training work dirs go to '
                        'DIR/<name> (default: beside OUT)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to tools/train.py for every candidate')
    return parser.parse_args(args)


def load_configs(path):
    """``{name: model config}`` from a ``candidates.jsonl``."""
    if not osp.isfile(path):
        raise SystemExit(f'{path!r} does not exist; run tools/search.py '
                         'first (it writes candidates.jsonl).')
    configs = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                configs[record['name']] = record['config']
            except (ValueError, KeyError) as e:
                raise SystemExit(f'{path}:{number} is not a candidate record '
                                 f'with a config ({e}).') from e
    return configs


def choose(configs, names=None, sample=None, seed=0):
    """The candidates to train, in a fixed order."""
    if names:
        unknown = [n for n in names if n not in configs]
        if unknown:
            raise SystemExit(f'--names {unknown} are not in the candidates '
                             f'file; it has {sorted(configs)[:10]}...')
        return list(names)
    ordered = sorted(configs)
    if sample is None:
        return ordered
    if not 1 <= sample <= len(ordered):
        raise SystemExit(f'--sample {sample}: choose between 1 and '
                         f'{len(ordered)} (the candidates scored).')
    return sorted(random.Random(seed).sample(ordered, sample))


def distill_config(template, student, teacher_ckpt=None):
    """``template`` (a Config) with ``student`` as its student."""
    cfg = copy.deepcopy(template)
    if cfg.model.get('type') != 'SingleTeacherDistiller':
        raise SystemExit(f'TEMPLATE {template.filename!r} is not a '
                         'SingleTeacherDistiller config; use a KD config.')
    cfg.model.student = student
    if teacher_ckpt is not None:
        cfg.model.teacher_ckpt = teacher_ckpt
    cfg.pop('work_dir', None)
    return cfg


def set_epochs(cfg, epochs):
    """Shorten or lengthen ``cfg``'s schedule to ``epochs`` epochs."""
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs
    sched = cfg.get('param_scheduler')
    if isinstance(sched, dict) and 'T_max' in sched:
        sched['T_max'] = epochs
    elif sched:
        raise SystemExit('--epochs only rescales a single cosine scheduler; '
                         'set the schedule with --cfg-options instead.')


def final_top1(work_dir):
    """top-1 of the last validation in the newest run of ``work_dir``."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        raise RuntimeError(f'{work_dir} has no vis_data/scalars.json: the '
                           'training did not validate.')
    value = None
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        for line in f:
            record = json.loads(line)
            if 'accuracy/top1' in record:
                value = float(record['accuracy/top1'])
    if value is None:
        raise RuntimeError(f'{work_dir}/{runs[-1]} logged no accuracy/top1.')
    return value


def main(args=None):
    args = parse_args(args)
    from mmengine.config import Config
    configs = load_configs(args.candidates)
    names = choose(configs, args.names, args.sample, args.sample_seed)
    if not osp.isfile(args.template):
        raise SystemExit(f'TEMPLATE {args.template!r} does not exist.')
    template = Config.fromfile(args.template)
    if args.teacher_ckpt and not osp.isfile(args.teacher_ckpt):
        raise SystemExit(f'--teacher-ckpt {args.teacher_ckpt!r} does not '
                         'exist.')
    # check every config before training anything
    jobs = []
    for name in names:
        cfg = distill_config(template, configs[name], args.teacher_ckpt)
        if args.epochs is not None:
            set_epochs(cfg, args.epochs)
        jobs.append((name, cfg))
    truth, times = {}, {}
    times_path = osp.splitext(args.out)[0] + '.times.json'
    if osp.isfile(args.out):
        with open(args.out) as f:
            truth = json.load(f)
        if osp.isfile(times_path):
            with open(times_path) as f:
                times = json.load(f)
    work_root = args.work_dir or osp.join(
        osp.dirname(osp.abspath(args.out)), 'train_candidates')
    for i, (name, cfg) in enumerate(jobs):
        if name in truth:
            print(f'[{i + 1}/{len(jobs)}] {name}: {truth[name]} (done)')
            continue
        work_dir = osp.join(work_root, name)
        os.makedirs(work_dir, exist_ok=True)
        cfg_path = osp.join(work_dir, 'candidate_config.py')
        cfg.dump(cfg_path)
        command = [sys.executable, osp.join(REPO, 'tools', 'train.py'),
                   cfg_path, '--work-dir', work_dir]
        if args.cfg_options:
            command += ['--cfg-options'] + list(args.cfg_options)
        start = time.time()
        subprocess.run(command, check=True)
        times[name] = round(time.time() - start, 1)
        truth[name] = final_top1(work_dir)
        for path, table in ((args.out, truth), (times_path, times)):
            with open(path + '.tmp', 'w') as f:
                json.dump(table, f, indent=1)
            os.replace(path + '.tmp', path)
        print(f'[{i + 1}/{len(jobs)}] {name}: top-1 {truth[name]:.2f} '
              f'({times[name]:.0f} s)')


if __name__ == '__main__':
    main()
