"""Search a student architecture for a teacher without training (DisWOT).

    python tools/search.py CONFIG [--work-dir DIR] [--restart]
        [--cfg-options k=v ...] [--launcher pytorch]

CONFIG is a search config: ``model`` is the teacher and
``train_cfg = dict(type='SearchLoop', space=..., searcher=..., proxy=...)``
(see mmkd/engine/search_loop.py and configs/diswot/). The work dir gets
``candidates.jsonl``, ``search_summary.json``, ``search_scores.png`` and,
with ``train_cfg.train_template``, ``best_student_kd.py`` for
tools/train.py. Re-running with the same work dir resumes from the last
finished generation; ``--restart`` starts over. A search needs no
``optim_wrapper``: it runs in :class:`mmkd.engine.SearchRunner`.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

import mmkd  # noqa: F401
from mmkd.engine.runner import SearchRunner, shutdown_distributed
from mmkd.registry import RUNNERS


def parse_args(args=None):
    parser = argparse.ArgumentParser(description='DisWOT student search')
    parser.add_argument('config', help='search config file path')
    parser.add_argument('--work-dir', help='where the results go')
    parser.add_argument('--restart', action='store_true',
                        help='discard earlier results in the work dir '
                        'instead of resuming from them')
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
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    cfg = Config.fromfile(args.config)
    if cfg.get('train_cfg', {}).get('type') != 'SearchLoop':
        raise SystemExit(
            f'{args.config} is not a search config (train_cfg.type must be '
            "'SearchLoop'); train it with tools/train.py.")
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = args.launcher
    if args.cfg_options:
        template = args.cfg_options.get('train_cfg.train_template')
        if isinstance(template, str):  # given here: from the working dir
            args.cfg_options['train_cfg.train_template'] = osp.abspath(
                template)
        cfg.merge_from_dict(args.cfg_options)
    if args.restart:
        cfg.train_cfg.restart = True
    # default_runtime.py names KDRunner, the training runner: a search
    # runs in SearchRunner (or a subclass a config names)
    runner_type = cfg.get('runner_type')
    if runner_type in (None, 'KDRunner', 'Runner'):
        runner_type = 'SearchRunner'
    runner_cls = RUNNERS.get(runner_type)
    if not (isinstance(runner_cls, type)
            and issubclass(runner_cls, SearchRunner)):
        raise SystemExit(
            f'runner_type={runner_type!r} is not a SearchRunner; remove '
            'it or name a subclass of mmkd.engine.SearchRunner.')
    runner = runner_cls.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
    shutdown_distributed()
