"""How well do zero-cost proxies rank architectures? Kendall / Spearman / r.

    python tools/analysis/proxy_correlation.py CANDIDATES [CANDIDATES ...]
        GROUND_TRUTH [--out-dir DIR] [--keys score params ...]

CANDIDATES is the ``candidates.jsonl`` a search writes (``tools/search.py``;
an ``ExhaustiveSearcher`` with ``train_cfg.extra_proxies`` scores every
architecture of a small space with several proxies in one run, e.g.
``configs/diswot/proxy-zoo_resnet20_s1-exhaustive_cifar10mini.py``). Give
one file per seed (searches run with ``--cfg-options train_cfg.seed=S``)
to get the mean and standard deviation over seeds. GROUND_TRUTH is a JSON
file ``{architecture name: accuracy}``: published accuracies, or mmkd's own
short distillation runs written by ``tools/analysis/train_candidates.py``.
For every score in the candidates (each proxy, DisWOT's ``M_s``/``M_r``
parts, params, FLOPs) the tool prints Kendall's tau-b, Spearman's rho and
Pearson's r against the ground truth over the architectures present in
both (mean and std over the files), writes them to
``DIR/correlation.json`` and draws a proxy-vs-accuracy scatter plot per
score from the first file (``DIR/scatter_<key>.png``).

Higher scores mean better for every mmkd score, DisWOT's recorded parts
included (``score.M_s`` is -M_s), so a good proxy has a positive
correlation. Files written before parts were recorded that way (parts as
raw distances, ``score = -(M_s + M_r)``) are detected and their parts
negated, with a notice. A key whose values repeat another key's on every
architecture (e.g. an extra ``Params`` proxy and the record's ``params``)
is reported once. In DisWOT's S1 space the parameter count alone ranks
the KD accuracy with tau 0.87 (methods.md 1.3): a proxy must beat
``params`` to mean anything there.
"""
import argparse
import json
import math
import os
import os.path as osp
from typing import Dict, List, Sequence


def rankdata(values: Sequence[float]) -> List[float]:
    """Ranks from 1, ties getting the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman_rho(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation of the (tie-averaged) ranks."""
    return _pearson(rankdata(x), rankdata(y))


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b: (C - D) / sqrt((n0 - n1) (n0 - n2)), O(n^2)."""
    n = len(x)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = math.sqrt((concordant + discordant + ties_x) *
                      (concordant + discordant + ties_y))
    return (concordant - discordant) / denom if denom else float('nan')


def _pearson(a: Sequence[float], b: Sequence[float]) -> float:
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((p - ma) * (q - mb) for p, q in zip(a, b))
    va = sum((p - ma)**2 for p in a)
    vb = sum((q - mb)**2 for q in b)
    return cov / math.sqrt(va * vb) if va and vb else float('nan')


def load_candidates(path: str) -> Dict[str, Dict[str, float]]:
    """``{name: {score key: value}}`` from a ``candidates.jsonl``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path!r} does not exist; run tools/'
                                'search.py first (it writes candidates.jsonl '
                                'in its work dir).')
    table = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                scores = dict(record.get('scores') or {})
                scores.setdefault('score', record['score'])
                for key in ('params', 'flops'):
                    if key in record:
                        scores[key] = record[key]
                table[record['name']] = {
                    k: float(v) for k, v in scores.items()
                }
            except (ValueError, KeyError, TypeError) as e:
                raise ValueError(f'{path}:{number} is not a candidate '
                                 f'record ({e}).') from e
    return table


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def flip_old_parts(table: Dict[str, Dict[str, float]]) -> List[str]:
    """Negate the parts ``K.<part>`` of a score ``K`` that a file recorded
    as raw distances (older mmkd: ``K == -sum(parts)`` on every record, not
    ``sum(parts)``); returns the flipped keys."""
    records = list(table.values())
    keys = sorted({k for s in records for k in s if '.' not in k})
    flipped = []
    for key in keys:
        parts = sorted({k for s in records for k in s
                        if k.startswith(key + '.')})
        rows = [(s[key], sum(s[p] for p in parts)) for s in records
                if key in s and all(p in s for p in parts)]
        if not parts or not rows or any(
                not _close(score, -total) for score, total in rows) or all(
                _close(score, total) for score, total in rows):
            continue
        for s in records:
            for p in parts:
                if p in s:
                    s[p] = -s[p]
        flipped += parts
    return flipped


def repeated_keys(table: Dict[str, Dict[str, float]],
                  keys: Sequence[str]) -> Dict[str, str]:
    """``{key: kept key}`` for keys equal to an earlier one on every
    architecture (``score``, the searched proxy, is kept first)."""
    keys = sorted(keys, key=lambda k: k != 'score')
    repeats = {}
    for i, key in enumerate(keys):
        for other in keys[:i]:
            if other in repeats:
                continue
            if all(key in s and other in s and _close(s[key], s[other])
                   for s in table.values()):
                repeats[key] = other
                break
    return repeats


def correlations(candidates: Dict[str, Dict[str, float]],
                 truth: Dict[str, float], keys=None) -> Dict[str, dict]:
    """Kendall tau-b and Spearman rho of every score key vs the truth."""
    names = sorted(set(candidates) & set(truth))
    if len(names) < 3:
        raise ValueError(
            f'only {len(names)} architectures are in both files (at least 3 '
            'are needed); check that the ground truth uses the search '
            "space's names, e.g. '557'.")
    all_keys = sorted({k for n in names for k in candidates[n]})
    keys = list(keys) if keys else all_keys
    unknown = [k for k in keys if k not in all_keys]
    if unknown:
        raise KeyError(f'--keys {unknown} are not in the candidates; '
                       f'available: {all_keys}.')
    result = {}
    for key in keys:
        rows = [(candidates[n][key], truth[n], n) for n in names
                if key in candidates[n] and math.isfinite(candidates[n][key])]
        if len(rows) < 3:
            continue
        x, y = [r[0] for r in rows], [r[1] for r in rows]
        result[key] = dict(kendall_tau=kendall_tau_b(x, y),
                           spearman_rho=spearman_rho(x, y),
                           pearson_r=_pearson(x, y), n=len(rows),
                           proxy=x, accuracy=y, names=[r[2] for r in rows])
    return result


METRICS = ('kendall_tau', 'spearman_rho', 'pearson_r')


def over_seeds(per_seed: List[Dict[str, dict]]) -> Dict[str, dict]:
    """Mean and (population) std of each metric over the seeds' results.

    A key missing from a seed's result (too few finite scores) is averaged
    over the seeds that have it; ``seeds`` says how many.
    """
    summary = {}
    keys = sorted({k for result in per_seed for k in result})
    for key in keys:
        runs = [result[key] for result in per_seed if key in result]
        stats = dict(n=runs[0]['n'], seeds=len(runs))
        for m in METRICS:
            values = [r[m] for r in runs if math.isfinite(r[m])]
            mean = sum(values) / len(values) if values else float('nan')
            std = (math.sqrt(sum((v - mean)**2 for v in values) /
                             len(values)) if values else float('nan'))
            stats[m], stats[m + '_std'] = mean, std
        summary[key] = stats
    return summary


def scatter(key: str, stats: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.scatter(stats['proxy'], stats['accuracy'], s=12)
    for x, y, name in zip(stats['proxy'], stats['accuracy'],
                          stats.get('names', ())):
        ax.annotate(name, (x, y), fontsize=6, xytext=(2, 2),
                    textcoords='offset points')
    ax.set_xlabel(f'{key} (higher is better)')
    ax.set_ylabel('accuracy (%)')
    ax.set_title(f"tau {stats['kendall_tau']:.3f}  rho "
                 f"{stats['spearman_rho']:.3f}  r {stats['pearson_r']:.3f}"
                 f"  (n={stats['n']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def parse_args(args=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('candidates', nargs='+',
                        help='candidates.jsonl of a search (one per seed)')
    parser.add_argument('ground_truth',
                        help='JSON {architecture name: accuracy}')
    parser.add_argument('--keys', nargs='+', help='score keys to compare '
                        '(default: all)')
    parser.add_argument('--out-dir', default=None,
                        help='where correlation.json and the plots go '
                        '(default: beside the first candidates file)')
    return parser.parse_args(args)


def main(args=None):
    args = parse_args(args)
    if not osp.isfile(args.ground_truth):
        raise SystemExit(f'ground truth {args.ground_truth!r} does not '
                         'exist.')
    with open(args.ground_truth) as f:
        truth = {str(k): float(v) for k, v in json.load(f).items()}
    per_seed = []
    for path in args.candidates:
        table = load_candidates(path)
        flipped = flip_old_parts(table)
        if flipped:
            print(f'{path}: {flipped} were recorded as distances (lower is '
                  'better, an older mmkd); negated so every score is '
                  'higher-is-better.')
        keys = list(args.keys) if args.keys else sorted(
            {k for scores in table.values() for k in scores})
        repeats = repeated_keys(table, keys)
        for key, other in repeats.items():
            print(f'{path}: {key!r} equals {other!r} on every architecture; '
                  f'reported as {other!r} only.')
        per_seed.append(correlations(
            table, truth, [k for k in keys if k not in repeats]))
    summary = over_seeds(per_seed)
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.candidates[0]))
    os.makedirs(out_dir, exist_ok=True)

    def order(item):  # best first; undefined (constant scores) last
        tau = item[1]['kendall_tau']
        return -tau if math.isfinite(tau) else math.inf

    print(f'{len(args.candidates)} candidates file(s); mean +- std over '
          'them. Every score is higher-is-better (DisWOT\'s parts are '
          'negated distances), so a good proxy correlates positively.')
    print(f"{'score':<20}{'kendall tau':>18}{'spearman rho':>18}"
          f"{'pearson r':>18}{'n':>5}")
    for key, stats in sorted(summary.items(), key=order):
        cells = ''.join(f"{stats[m]:>10.4f} +-{stats[m + '_std']:.3f}"
                        for m in METRICS)
        print(f"{key:<20}{cells}{stats['n']:>5}")
        if key in per_seed[0]:
            scatter(key, per_seed[0][key],
                    osp.join(out_dir, f'scatter_{key}.png'))
    with open(osp.join(out_dir, 'correlation.json'), 'w') as f:
        json.dump({k: {m: _finite_or_none(v) for m, v in stats.items()}
                   for k, stats in summary.items()}, f, indent=2)
    print(f'correlations written to {osp.join(out_dir, "correlation.json")}'
          f'; scatter plots (first file) to {out_dir}/scatter_<key>.png')


def _finite_or_none(value):
    """JSON has no NaN: an undefined correlation is written as null."""
    return None if isinstance(value, float) and not math.isfinite(
        value) else value


if __name__ == '__main__':
    main()
