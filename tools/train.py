"""Train a model, a distiller, or a multi-stage pipeline from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [PATH]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch]

A config with ``stages`` runs as a pipeline (see mmkd/engine/pipeline.py);
it prints a table of each stage's final accuracy and wall time.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction

import mmkd  # noqa: F401  (allow-lists checkpoint types for weights_only)
from mmkd.engine import format_summary, run_pipeline
from mmkd.engine.runner import shutdown_distributed
from mmkd.registry import RUNNERS
from mmkd.utils.config_checks import check_data_paths, read_config


def parse_args(args=None):
    parser = argparse.ArgumentParser(description='Train with mmkd')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a GPU)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr by total batch size / auto_scale_lr.base_batch_size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm',
                                               'mpi'], default='none')
    # torch.distributed.launch passes --local-rank, older tools --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(args)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def cli_overrides(args) -> dict:
    """The CLI flags as config options (applied to every pipeline stage)."""
    options = {'launcher': args.launcher}
    if args.no_validate:
        options.update(val_cfg=None, val_dataloader=None, val_evaluator=None)
    if args.amp:
        options.update({'optim_wrapper.type': 'AmpOptimWrapper',
                        'optim_wrapper.loss_scale': 'dynamic'})
    if args.auto_scale_lr:
        options['auto_scale_lr.enable'] = True
    options.update(args.cfg_options or {})
    return options


def main():
    args = parse_args()
    # custom_imports (plugins) resolve from the directory the tool runs in
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        cfg = read_config(args.config)
    except (FileNotFoundError, SyntaxError) as e:
        raise SystemExit(str(e))
    if args.amp:
        from mmengine.device import get_device
        if get_device() == 'cpu':
            raise SystemExit('--amp needs a GPU (mixed precision runs on '
                             'CUDA/NPU/MLU devices) and this machine has '
                             'none; drop --amp.')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if cfg.get('stages') is not None:
        if args.resume not in (None, 'auto'):
            raise SystemExit('--resume PATH does not apply to a pipeline: '
                             'rerun it to skip finished stages and resume the '
                             'interrupted one.')
        summaries = run_pipeline(cfg, cli_overrides(args),
                                 runner_type=cfg.get('runner_type',
                                                     'KDRunner'))
        from mmengine.dist import is_main_process
        if is_main_process():
            print('\n' + format_summary(summaries))
        return

    cfg.merge_from_dict(cli_overrides(args))
    if args.resume == 'auto':
        if osp.isfile(osp.join(cfg.work_dir, 'last_checkpoint')):
            cfg.resume = True
            cfg.load_from = None
        else:
            # mmengine would start from scratch without a word
            print(f'[mmkd] warning: --resume found no checkpoint in '
                  f'{cfg.work_dir} (no last_checkpoint file); training '
                  'starts from scratch.', file=sys.stderr, flush=True)
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume {args.resume!r} does not exist; '
                             'give an existing checkpoint, or --resume '
                             'alone for the latest one in the work dir.')
        cfg.resume = True
        cfg.load_from = args.resume
    check_data_paths(cfg)
    runner = RUNNERS.get(cfg.get('runner_type', 'KDRunner')).from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
    shutdown_distributed()
