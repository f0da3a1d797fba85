"""Build the teacher soft-label store of a KD config (FKD-style replay).

    python tools/build_teacher_store.py CONFIG --out DIR [--epochs E]
        [--topk K] [--seed S] [--shard-size N] [--batch-size B]
        [--cfg-options k=v ...] [--launcher pytorch]

Runs the config's teacher (``model.teacher``, ``model.teacher_ckpt``) once
over ``E`` augmented views of every sample of its training dataset (its
train pipeline), and stores the drawn augmentation parameters and the
teacher's logits (fp16; ``--topk K``: the top-k and the rest's mass). The
config may be the online KD config or the one that trains from the store
(``StoreTeacherDistiller``; then ``--out`` defaults to its
``model.teacher_store``). ``E`` defaults to ``train_cfg.max_epochs``, the
seed to ``randomness.seed``.

Rerunning finishes an interrupted store (finished shards are skipped).
Several processes share the work (each builds every N-th shard)::

    torchrun --nproc_per_node 2 tools/build_teacher_store.py CONFIG \\
        --out DIR --launcher pytorch

See docs/user_guides/teacher_store.md.
"""
import argparse
import os
import sys
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmkd  # noqa: F401  (allow-lists checkpoint types for weights_only)
from mmkd.datasets.teacher_store import write_teacher_store
from mmkd.engine.runner import init_cpu_process_group, shutdown_distributed
from mmkd.models.algorithms import build_classifier, prepare_teacher
from mmkd.registry import MODELS


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Build the teacher soft-label store of a KD config')
    parser.add_argument('config', help='KD config file path')
    parser.add_argument('--out', help='store directory (default: the '
                        "config's model.teacher_store)")
    parser.add_argument('--epochs', type=int,
                        help='views per sample (default: train_cfg.'
                        'max_epochs)')
    parser.add_argument('--topk', type=int,
                        help='keep the top-k logits and the rest\'s mass '
                        '(default: all logits)')
    parser.add_argument('--seed', type=int,
                        help='seed of the views (default: randomness.seed, '
                        'else 0)')
    parser.add_argument('--shard-size', type=int, default=1024)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    parser.add_argument('--launcher', choices=['none', 'pytorch'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(args)


def store_settings(cfg, args) -> dict:
    """What the store is built from, read from a KD config."""
    model = cfg.model
    if 'teacher' not in model:
        raise SystemExit(f'{args.config}: model has no `teacher`; the store '
                         'is built for a single-teacher KD config.')
    out = args.out or model.get('teacher_store')
    if out is None:
        raise SystemExit('--out is required: the config names no '
                         'model.teacher_store.')
    dataset = cfg.train_dataloader.dataset
    if dataset.get('type') == 'TeacherStoreDataset':
        dataset = dataset.dataset
    epochs = args.epochs or cfg.get('train_cfg', {}).get('max_epochs')
    if epochs is None:
        raise SystemExit('--epochs is required: the config has no '
                         'train_cfg.max_epochs.')
    seed = args.seed
    if seed is None:
        seed = (cfg.get('randomness') or {}).get('seed')
    preprocessor = model.get('data_preprocessor',
                             cfg.get('data_preprocessor'))
    if preprocessor is None:
        raise SystemExit(f'{args.config} sets no data_preprocessor; the '
                         'teacher needs the one training uses.')
    return dict(out=out, dataset=dataset.to_dict(), views=int(epochs),
                topk=args.topk, seed=0 if seed is None else int(seed),
                teacher=model.teacher, ckpt=model.get('teacher_ckpt'),
                preprocessor=preprocessor)


def main(argv=None):
    args = parse_args(argv)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    rank, world_size = 0, 1
    if args.launcher == 'pytorch':
        if torch.cuda.is_available():
            torch.distributed.init_process_group('nccl')
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        else:
            init_cpu_process_group()
        rank = torch.distributed.get_rank()
        world_size = torch.distributed.get_world_size()
    s = store_settings(cfg, args)
    # a teacher without a checkpoint is random: the same one on every rank
    torch.manual_seed(s['seed'])
    teacher = build_classifier(s['teacher'], 'model.teacher')
    prepare_teacher(teacher, s['ckpt'], 'model.teacher_ckpt',
                    trainable=False, keep_eval=True)
    preprocessor = MODELS.build(s['preprocessor'])
    if torch.cuda.is_available():
        teacher, preprocessor = teacher.cuda(), preprocessor.cuda()
    start = time.perf_counter()
    done = write_teacher_store(
        s['out'], teacher, preprocessor, s['dataset'], views=s['views'],
        topk=s['topk'], seed=s['seed'],
        teacher_info=dict(model=s['teacher'], ckpt=s['ckpt']),
        shard_size=args.shard_size, batch_size=args.batch_size, rank=rank,
        world_size=world_size)
    if rank == 0:
        size = sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(s['out']) for f in files)
        print(f"teacher store {s['out']}: {done['num_shards']} shards "
              f"({done['built']} built here, {done['skipped']} already "
              f"done), {s['views']} views, topk={s['topk']}, "
              f'{size / 2**20:.2f} MiB, {time.perf_counter() - start:.1f} s')
    return done


if __name__ == '__main__':
    main()
    shutdown_distributed()
