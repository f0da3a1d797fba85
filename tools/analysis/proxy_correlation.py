"""How well do zero-cost proxies rank architectures? Kendall tau / Spearman.

    python tools/analysis/proxy_correlation.py CANDIDATES GROUND_TRUTH
        [--out-dir DIR] [--keys score params ...]

CANDIDATES is the ``candidates.jsonl`` a search writes (``tools/search.py``;
an ``ExhaustiveSearcher`` with ``train_cfg.extra_proxies`` scores every
architecture of a small space with several proxies in one run). GROUND_TRUTH
is a JSON file ``{architecture name: accuracy}``, e.g. the CIFAR-100 KD
accuracies of the 64 S1 networks. For every score in the candidates (each
proxy, DisWOT's ``M_s``/``M_r`` parts, params, FLOPs) the tool prints
Kendall's tau-b and Spearman's rho against the ground truth over the
architectures present in both, writes them to ``DIR/correlation.json`` and
draws a proxy-vs-accuracy scatter plot per score (``DIR/scatter_<key>.png``).

Higher scores mean better for every mmkd proxy, so a good proxy has a
positive correlation. In DisWOT's S1 space the parameter count alone ranks
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
        rows = [(candidates[n][key], truth[n]) for n in names
                if key in candidates[n] and math.isfinite(candidates[n][key])]
        if len(rows) < 3:
            continue
        x, y = [r[0] for r in rows], [r[1] for r in rows]
        result[key] = dict(kendall_tau=kendall_tau_b(x, y),
                           spearman_rho=spearman_rho(x, y), n=len(rows),
                           proxy=x, accuracy=y)
    return result


def scatter(key: str, stats: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.scatter(stats['proxy'], stats['accuracy'], s=12)
    ax.set_xlabel(key)
    ax.set_ylabel('accuracy')
    ax.set_title(f"tau {stats['kendall_tau']:.3f}  rho "
                 f"{stats['spearman_rho']:.3f}  (n={stats['n']})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('candidates', help='candidates.jsonl of a search')
    parser.add_argument('ground_truth',
                        help='JSON {architecture name: accuracy}')
    parser.add_argument('--keys', nargs='+', help='score keys to compare '
                        '(default: all)')
    parser.add_argument('--out-dir', default=None,
                        help='where correlation.json and the plots go '
                        '(default: beside the candidates file)')
    args = parser.parse_args()
    candidates = load_candidates(args.candidates)
    if not osp.isfile(args.ground_truth):
        raise SystemExit(f'ground truth {args.ground_truth!r} does not '
                         'exist.')
    with open(args.ground_truth) as f:
        truth = {str(k): float(v) for k, v in json.load(f).items()}
    result = correlations(candidates, truth, args.keys)
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.candidates))
    os.makedirs(out_dir, exist_ok=True)
    print(f"{'score':<24}{'kendall tau':>12}{'spearman rho':>14}{'n':>5}")
    def order(item):  # best first; undefined (constant scores) last
        tau = item[1]['kendall_tau']
        return -tau if math.isfinite(tau) else math.inf

    for key, stats in sorted(result.items(), key=order):
        print(f"{key:<24}{stats['kendall_tau']:>12.4f}"
              f"{stats['spearman_rho']:>14.4f}{stats['n']:>5}")
        scatter(key, stats, osp.join(out_dir, f'scatter_{key}.png'))
    with open(osp.join(out_dir, 'correlation.json'), 'w') as f:
        json.dump({k: {m: _finite_or_none(v[m])
                       for m in ('kendall_tau', 'spearman_rho', 'n')}
                   for k, v in result.items()}, f, indent=2)


def _finite_or_none(value):
    """JSON has no NaN: an undefined correlation is written as null."""
    return None if isinstance(value, float) and not math.isfinite(
        value) else value


if __name__ == '__main__':
    main()
