"""WKD-L's category cost matrix for your own teacher.

    python tools/analysis/wkd_cost_matrix.py CONFIG CHECKPOINT --out FILE
        [--split train|val] [--samples-per-class N]
        [--feature map|pool|logits] [--batch-size B] [--force]
        [--cfg-options k=v ...]

``CONFIG`` is the teacher's own classifier config (the one it was trained
with, e.g. ``configs/cifar_models/resnet32x4_1xb64_cifar100.py``), not a
distiller config. The tool loads ``CHECKPOINT`` into it, runs it in eval
mode over the first ``N`` images of every class (in the dataset's order) of
the config's training set (``--split val``: its validation set), and saves
``C_ij = 1 - linear CKA(F_i, F_j)`` (:func:`mmkd.models.losses.wkd.
linear_cka_cost`) with ``torch.save`` as a ``[K, K]`` float32 tensor: the
``cost_matrix`` file of ``WKDLogitLoss``.

No augmentation: the training images go through the config's **test**
pipeline (``val_dataloader.dataset.pipeline``), as the official code
passes its test transform to the training set; the order is the dataset's,
no sampler shuffles.

``F_k``, the features of class ``k`` (``--feature``):

- ``map`` (default; the official CIFAR-100 files, ``--feature_type
  feature``): the backbone's last output ``[C, H, W]`` of every image,
  each of the ``H x W`` positions one row of ``C`` values (image-major), so
  ``F_k`` is ``[N * H * W, C]``;
- ``pool``: the head's input (the pooled penultimate feature), ``[N, C]``;
- ``logits``: the teacher's logits, ``[N, K]`` (the official ImageNet
  ``logit_linear_cka.pth``).

``N`` (``--samples-per-class``) defaults to the size of the smallest class
(every image of a balanced set, as the official CIFAR files). Linear CKA
compares row ``n`` of ``F_i`` with row ``n`` of ``F_j``, as the official
``generate_cost_matrix.py`` does, so the matrix depends on which images
are taken and in which order: with the official teacher, ``--feature map``
over CIFAR-100's 500 training images per class follows the procedure of
``wkd_cost_matrix/cifar100/*/linear_cka.pth`` (same features, set order
and formula; not checked against those files, which need the authors'
teacher checkpoints). The official ImageNet files take
the first 732 images per class of a seeded shuffle; this tool takes them
in the dataset's order, so it follows that procedure only approximately.
Only ``map`` is robust to that order (it pairs positions with positions,
so it compares the classes' mean feature maps); ``pool`` and ``logits``
pair unrelated images and give costs near 1 whose ranking follows the
order (measured in configs/wkd/README.md).
See configs/wkd/README.md ("Your own teacher").
"""
import argparse
import copy
import os
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmkd  # noqa: F401  (registries, weights_only allow-list)
from mmkd.models.algorithms import build_classifier
from mmkd.models.losses.wkd import linear_cka_cost
from mmkd.registry import DATASETS
from mmkd.utils.checkpoint import load_model_weights

FEATURES = ('map', 'pool', 'logits')


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description="WKD-L's linear-CKA cost matrix of a teacher")
    parser.add_argument('config', help="the teacher's classifier config")
    parser.add_argument('checkpoint', help="the teacher's checkpoint")
    parser.add_argument('--out', required=True, help='output .pth file')
    parser.add_argument('--split', choices=['train', 'val'],
                        default='train', help='dataset to read (default: '
                        'train, through the test pipeline)')
    parser.add_argument('--samples-per-class', type=int,
                        help='images per class (default: the smallest '
                        "class's size)")
    parser.add_argument('--feature', choices=FEATURES, default='map',
                        help='map: last backbone feature map, a row per '
                        "position (official CIFAR); pool: the head's input; "
                        'logits (official ImageNet). Default: map')
    parser.add_argument('--batch-size', type=int, default=100)
    parser.add_argument('--force', action='store_true',
                        help='overwrite --out if it exists')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    return parser.parse_args(args)


def dataset_config(cfg, split: str, config: str) -> dict:
    """The ``split`` dataset of ``cfg`` with the test pipeline."""
    val = cfg.get('val_dataloader') or {}
    val_dataset = val.get('dataset') or {}
    if 'pipeline' not in val_dataset:
        raise SystemExit(f'{config}: val_dataloader.dataset has no pipeline; '
                         'the tool needs the test pipeline of a classifier '
                         'config.')
    if split == 'val':
        return copy.deepcopy(val_dataset.to_dict())
    train = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    if 'pipeline' not in train:
        raise SystemExit(f'{config}: train_dataloader.dataset has no '
                         'pipeline (a dataset wrapper?); give a plain '
                         'classifier config or use --split val.')
    train = copy.deepcopy(train.to_dict())
    train['pipeline'] = copy.deepcopy(val_dataset.to_dict()['pipeline'])
    return train


def pick_samples(labels, num_classes: int, per_class, names) -> list:
    """The first ``per_class`` dataset indices of every class, class by
    class (``per_class=None``: the smallest class's size)."""
    by_class = [[] for _ in range(num_classes)]
    for index, label in enumerate(labels):
        if not 0 <= label < num_classes:
            raise SystemExit(f'the dataset has label {label} but the head '
                             f'has {num_classes} classes; use the config the '
                             'teacher was trained with.')
        by_class[label].append(index)
    counts = [len(c) for c in by_class]
    n = min(counts) if per_class is None else per_class
    if n < 2:
        raise SystemExit(f'--samples-per-class must be >= 2 (CKA centres '
                         f'each class), got {n}.')
    short = [k for k, c in enumerate(counts) if c < n]
    if short:
        k = short[0]
        raise SystemExit(f'class {k} ({names[k]}) has {counts[k]} images, '
                         f'fewer than the {n} asked; lower '
                         '--samples-per-class.')
    return [c[:n] for c in by_class]


@torch.no_grad()
def class_features(model, dataset, indices, feature: str,
                   batch_size: int) -> torch.Tensor:
    """``[K, R, D]`` features of the images ``indices[k]`` of every class
    ``k`` (``R = N`` rows, or ``N * H * W`` for ``map``)."""
    order = [(k, i) for k, idx in enumerate(indices) for i in idx]
    rows = [[] for _ in indices]
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = pseudo_collate([dataset[i] for _, i in chunk])
        inputs = model.data_preprocessor(batch, False)['inputs']
        if feature == 'logits':
            out = model(inputs, mode='tensor')
        elif feature == 'pool':
            out = model.head.pre_logits(model.extract_feat(inputs))
        else:
            out = model.extract_feat(inputs, stage='backbone')[-1]
            if out.dim() != 4:
                raise SystemExit(
                    '--feature map needs a backbone whose last output is a '
                    f'[N, C, H, W] map, got {tuple(out.shape)}; use --feature '
                    'pool or logits.')
            out = out.flatten(2).transpose(1, 2)  # [B, H*W, C]
        for (k, _), f in zip(chunk, out.float().cpu()):
            rows[k].append(f.reshape(-1, f.shape[-1]))
    return torch.stack([torch.cat(r) for r in rows])


def summary(cost: torch.Tensor, names) -> dict:
    """Off-diagonal min/mean/max and the closest and farthest class pairs."""
    k = cost.shape[0]
    i, j = torch.triu_indices(k, k, offset=1)
    off = cost[i, j]
    lo, hi = off.argmin(), off.argmax()
    return dict(min=off.min().item(), mean=off.mean().item(),
                max=off.max().item(),
                closest=(names[i[lo]], names[j[lo]]),
                farthest=(names[i[hi]], names[j[hi]]))


def main(argv=None):
    args = parse_args(argv)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    if os.path.exists(args.out) and not args.force:
        raise SystemExit(f'--out {args.out} exists; pass --force to '
                         'overwrite it or choose another file.')
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint!r} does not exist; '
                         "give the teacher's trained checkpoint (.pth).")
    if args.batch_size < 1:
        raise SystemExit(f'--batch-size must be >= 1, got {args.batch_size}.')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    init_default_scope(cfg.get('default_scope', 'mmkd'))
    model_cfg = cfg.get('model')
    if not isinstance(model_cfg, dict) or model_cfg.get('head') is None:
        raise SystemExit(f'{args.config}: model has no classifier head; '
                         "give the teacher's own classifier config (backbone, "
                         'neck, head), not a distiller config.')
    model_cfg = copy.deepcopy(model_cfg.to_dict())
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor',
                             cfg.data_preprocessor.to_dict())
    num_classes = model_cfg['head'].get('num_classes')
    if not isinstance(num_classes, int):
        raise SystemExit(f'{args.config}: model.head.num_classes is not set; '
                         'the cost matrix is K x K over the head\'s classes.')
    dataset = DATASETS.build(dataset_config(cfg, args.split, args.config))
    names = list(dataset.metainfo.get('classes') or range(num_classes))
    names = [str(n) for n in names]
    indices = pick_samples([int(x) for x in dataset.get_gt_labels()],
                           num_classes, args.samples_per_class, names)

    model = build_classifier(model_cfg, 'model')
    load_model_weights(model, args.checkpoint, 'teacher', 'CHECKPOINT')
    model.eval()
    feats = class_features(model, dataset, indices, args.feature,
                           args.batch_size)
    cost = linear_cka_cost(feats)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(cost, args.out)
    s = summary(cost, names)
    print(f'{args.out}: [{num_classes}, {num_classes}] cost = 1 - linear CKA '
          f'of --feature {args.feature} ({len(indices[0])} {args.split} '
          f'images per class, {feats.shape[1]} x {feats.shape[2]} per '
          f"class); off-diagonal min {s['min']:.4f} mean {s['mean']:.4f} "
          f"max {s['max']:.4f}; closest {s['closest'][0]}/"
          f"{s['closest'][1]}, farthest {s['farthest'][0]}/"
          f"{s['farthest'][1]}")
    return dict(cost=cost, summary=s, features=tuple(feats.shape))


if __name__ == '__main__':
    main()
