"""Plot training curves from the scalars an mmengine run logs.

    python tools/analysis/plot_curves.py SCALARS [--keys K ...] [--out OUT]
        [--title TITLE]

``SCALARS`` is the ``vis_data/scalars.json`` that mmengine's
``LocalVisBackend`` writes under ``work_dir/<timestamp>/``, or a work dir
(its newest run is used). The file holds one JSON object per line: training
lines carry ``iter`` and ``step`` (the global iteration) with ``loss``, each
distillation loss on its own key (``loss_kd``, ``student.loss`` ...), ``lr``
...; validation lines carry the metrics (``accuracy/top1``,
``teacher/accuracy/top1``) at ``step`` (the epoch for epoch-based training).

The PNG (1200 x 450 pixels) has one panel for the chosen training keys
against the iteration, and, when validation keys are chosen, a second panel
for them against the epoch (or iteration). By default every training key
with ``loss`` in its name (mmengine sums those) is plotted, one curve each,
plus ``accuracy/top1`` and ``teacher/accuracy/top1`` when present.
"""
import argparse
import glob
import json
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

#: Output size in pixels: FIGSIZE inches at DPI.
FIGSIZE = (12, 4.5)
DPI = 100
#: Validation keys plotted by default when the run logged them.
DEFAULT_VAL_KEYS = ('accuracy/top1', 'teacher/accuracy/top1')
#: Bookkeeping keys of every line, never plotted.
INDEX_KEYS = ('step', 'iter', 'epoch')


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Plot training curves from vis_data/scalars.json')
    parser.add_argument(
        'scalars', help='vis_data/scalars.json of a run, or its work dir')
    parser.add_argument(
        '--keys', nargs='+', default=None,
        help='keys to plot (default: every training key containing "loss", '
        'plus accuracy/top1)')
    parser.add_argument('--out', default=None,
                        help='output PNG (default: curves.png beside '
                        'scalars.json)')
    parser.add_argument('--title', default=None, help='figure title')
    return parser.parse_args(args)


def find_scalars(path):
    """The scalars file ``path`` names: itself, or the newest
    ``<timestamp>/vis_data/scalars.json`` under a work dir."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        found = sorted(
            glob.glob(osp.join(path, 'vis_data', 'scalars.json')) +
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
        if found:
            return found[-1]
        raise FileNotFoundError(
            f'{path!r} has no vis_data/scalars.json; pass the work_dir of a '
            'run that used LocalVisBackend, or the scalars.json itself.')
    raise FileNotFoundError(
        f'{path!r} does not exist; pass work_dir/<timestamp>/vis_data/'
        'scalars.json of a training run.')


def load_scalars(path):
    """``(train, val)``: the training lines (they have ``iter``) and the
    validation lines of a scalars file, each a list of dicts."""
    train, val = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{lineno} is not JSON ({e}); pass '
                                 "an mmengine run's scalars.json.") from e
            (train if 'iter' in record else val).append(record)
    if not train and not val:
        raise ValueError(f'{path} has no scalars; the run logged nothing.')
    return train, val


def keys_of(records):
    """Plottable keys of ``records``, in the order they first appear."""
    keys = {}
    for record in records:
        for key, value in record.items():
            if key not in INDEX_KEYS and isinstance(value, (int, float)):
                keys.setdefault(key)
    return list(keys)


def choose_keys(train, val, keys=None):
    """``(train_keys, val_keys)`` to plot; ``keys`` None gives the default.

    Raises:
        KeyError: a key of ``keys`` is in no line; the message lists the
            keys present.
    """
    train_present, val_present = keys_of(train), keys_of(val)
    if keys is None:
        return ([k for k in train_present if 'loss' in k],
                [k for k in DEFAULT_VAL_KEYS if k in val_present])
    unknown = [
        k for k in keys if k not in train_present and k not in val_present
    ]
    if unknown:
        present = ', '.join(dict.fromkeys(train_present + val_present))
        raise KeyError(f'--keys {" ".join(unknown)}: not in the scalars '
                       f'file; keys present: {present}.')
    return ([k for k in keys if k in train_present],
            [k for k in keys if k not in train_present])


def series(records, key):
    """``(steps, values)`` of ``key`` over ``records``."""
    points = [(r['step'], r[key]) for r in records if key in r]
    return [p[0] for p in points], [p[1] for p in points]


def plot_curves(train, val, train_keys, val_keys, out, title=None):
    """Write the curves to ``out`` (a 1200 x 450 PNG)."""
    panels = [(train, train_keys, 'training', 'iteration')
              ] if train_keys else []
    if val_keys:
        by_epoch = any('epoch' in r for r in train)
        panels.append((val, val_keys, 'validation',
                       'epoch' if by_epoch else 'iteration'))
    if not panels:
        raise ValueError('nothing to plot: no training key contains "loss" '
                         'and there is no accuracy/top1; choose --keys.')
    fig, axes = plt.subplots(1, len(panels), figsize=FIGSIZE, dpi=DPI,
                             squeeze=False)
    for ax, (records, keys, name, xlabel) in zip(axes[0], panels):
        for key in keys:
            steps, values = series(records, key)
            ax.plot(steps, values, marker='o' if len(steps) < 20 else None,
                    markersize=3, label=key)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)


def main(args=None):
    args = parse_args(args)
    try:
        path = find_scalars(args.scalars)
        train, val = load_scalars(path)
        train_keys, val_keys = choose_keys(train, val, args.keys)
    except (OSError, KeyError, ValueError) as e:
        # one sentence on stderr, exit status 1, nothing written
        message = e.args[0] if len(e.args) == 1 else e
        raise SystemExit(f'plot_curves.py: {message}')
    out = args.out or osp.join(osp.dirname(path), 'curves.png')
    plot_curves(train, val, train_keys, val_keys, out, args.title)
    print(f'plotted {", ".join(train_keys + val_keys)} from {path} to {out}')


if __name__ == '__main__':
    main()
