"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...]

Works for distiller checkpoints (the student is evaluated), with the
distiller's config or the student's own config (its ``student.*`` weights
are taken), and for student-only checkpoints made by
tools/model_converters/export_student.py with the student's config. The
checkpoint is loaded strictly: a model key it lacks, or one it has in
another shape, stops the tool with the keys named. It holds every weight,
so the config's ``teacher_ckpt``/``student_ckpt`` files are not needed.
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction

import mmkd  # noqa: F401  (allow-lists checkpoint types for weights_only)
from mmkd.engine.runner import shutdown_distributed
from mmkd.registry import RUNNERS
from mmkd.utils.checkpoint import drop_checkpoint_fields, weights_loaded_later
from mmkd.utils.config_checks import check_data_paths, read_config


def parse_args(args=None):
    parser = argparse.ArgumentParser(description='Test with mmkd')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument('--out', help='dump the metrics to this json file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm',
                                               'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(args)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint!r} does not exist.')
    try:
        cfg = read_config(args.config)
    except (FileNotFoundError, SyntaxError) as e:
        raise SystemExit(str(e))
    if cfg.get('stages') is not None:
        raise SystemExit('tools/test.py takes one stage config, not a '
                         'pipeline; pass the config of the stage to test.')
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if cfg.get('model') is not None:
        # the checkpoint holds every weight (KDRunner loads it strictly)
        cfg.model = drop_checkpoint_fields(cfg.model)
    cfg.resume = False
    if cfg.get('test_dataloader') is None:
        raise SystemExit(f'{args.config} has no test_dataloader.')
    check_data_paths(cfg)
    with weights_loaded_later():
        runner = RUNNERS.get(cfg.get('runner_type',
                                     'KDRunner')).from_cfg(cfg)
    metrics = runner.test()
    if args.out:
        import json
        with open(args.out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)
    print(metrics)


if __name__ == '__main__':
    main()
    shutdown_distributed()
