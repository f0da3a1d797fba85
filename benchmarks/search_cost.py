"""Search cost against the proxy's own cost: the whole S1 search vs a bare
loop that only builds each candidate and scores it.

    OMP_NUM_THREADS=2 python benchmarks/search_cost.py [--repeats 3]
        [--config configs/diswot/diswot_resnet56_s1-exhaustive_cifar10mini.py]

- **search**: ``runner.train()`` of the search config (``SearchRunner``,
  ``SearchLoop``: constraints, params/FLOPs, every proxy of the config,
  records, resume bookkeeping, summary, plot, best config), in a fresh work
  dir each time, after the runner is built (imports, the dataset and the
  runner's construction are not timed: they are the same for any search);
- **reference**: a plain loop over the same candidates, on the same batch
  with the same prepared proxies: build each candidate under its seed and
  call every proxy of the config on it. That is the physical floor of a
  search with these proxies.

They alternate (search, reference, ...) ``--repeats`` times in one
process; the script checks that both give the same scores and prints the
median seconds of each side, the ratio search / reference, and what
counting FLOPs with mmengine per candidate (what the search did before
spaces said their costs) would add.
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import mmkd  # noqa: E402,F401
from mmkd.engine import SearchRunner  # noqa: E402
from mmkd.engine.search_loop import candidate_seed  # noqa: E402
from mmkd.models.algorithms import build_classifier  # noqa: E402
from mmkd.search.proxies import count_flops  # noqa: E402

DEFAULT = 'configs/diswot/diswot_resnet56_s1-exhaustive_cifar10mini.py'


def run_search(config: str):
    cfg = Config.fromfile(config)
    cfg.work_dir = tempfile.mkdtemp(prefix='search_cost_')
    cfg.log_level = 'WARNING'
    cfg.train_cfg.train_template = None
    runner = SearchRunner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    return time.perf_counter() - start, runner.train_loop


def run_reference(loop):
    scores = {}
    start = time.perf_counter()
    for name in loop.space.names():
        seed = candidate_seed(loop.seed, name)
        for key, proxy in loop.proxies.items():
            torch.manual_seed(seed)
            model = build_classifier(loop.space.to_config(name), name)
            torch.manual_seed(seed)
            scores[(name, key)] = proxy(model, loop.inputs, loop.labels)
    return time.perf_counter() - start, scores


def time_flop_counting(loop):
    start = time.perf_counter()
    for name in loop.space.names():
        count_flops(build_classifier(loop.space.to_config(name), name),
                    loop.input_shape)
    return time.perf_counter() - start


def main(args=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args(args)
    search_t, ref_t = [], []
    for _ in range(args.repeats):
        t, loop = run_search(args.config)
        search_t.append(t)
        t, scores = run_reference(loop)
        ref_t.append(t)
        for (name, key), value in scores.items():
            recorded = loop.records[name]['scores'][key]
            assert recorded == value, (name, key, recorded, value)
    flops_t = time_flop_counting(loop)
    n = len(loop.records)
    s, r = statistics.median(search_t), statistics.median(ref_t)
    print(f'{args.config}: {n} candidates, proxies {list(loop.proxies)}, '
          f'torch threads {torch.get_num_threads()}, {args.repeats} '
          'alternated repeats; scores identical')
    print(f'search     median {s:7.2f} s  ({s / n:.3f} s per candidate)')
    print(f'reference  median {r:7.2f} s  ({r / n:.3f} s per candidate)')
    print(f'ratio search / reference: {s / r:.3f}')
    print(f'counting FLOPs with mmengine per candidate would add '
          f'{flops_t:.2f} s ({flops_t / r:.2f}x the reference)')


if __name__ == '__main__':
    main()
