"""Heat maps of DisWOT's relation and semantic similarity matrices.

    python tools/visualizations/vis_similarity.py CONFIG [--teacher-ckpt P]
        [--student-ckpt P] [--num-images 32] [--out-dir DIR]
        [--cfg-options k=v ...]

Runs ``--num-images`` test images (the config's val dataset, or the
bundled ``CIFAR10Mini`` test split) through the teacher and the student of a
distiller config and writes, under ``--out-dir``:

- ``relation.png``: ``G = rownorm(A A^T)`` (``N x N``) of the flattened
  pre-pooling maps, teacher | student | teacher - student;
- ``semantic.png``: the class-averaged ``E_k = rownorm(g_k g_k^T)``
  (``C x C``) of the fc weight gradient ``g`` (DisWOT's M_s form; the
  teacher's gradient is average-pooled to the student's channels when they
  differ), teacher | student | teacher - student.

Both networks run in eval mode (BatchNorm running statistics), as trained
models are used. It prints ``M_r = ||G^T - G^S||^2 / N^2`` and
``M_s = sum_k ||E_k^T - E_k^S||^2 / (C K)``.
"""
import argparse
import os
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

import mmkd  # noqa: F401,E402
from mmkd.datasets import class_balanced_order  # noqa: E402
from mmkd.utils.config_checks import read_config  # noqa: E402
from mmkd.registry import DATASETS, MODELS  # noqa: E402
from mmkd.search.proxies.base import classifier_fc, forward_parts  # noqa
from mmkd.search.proxies.diswot import (pool_channels,  # noqa: E402
                                        relation_distance, relation_matrix,
                                        semantic_distance, semantic_matrices)

#: Figure size (inches) and dpi of each PNG: 1200 x 400 pixels.
FIGSIZE = (12, 4)
DPI = 100


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Teacher/student similarity matrices as heat maps')
    parser.add_argument('config', help='distiller config file path')
    parser.add_argument('--teacher-ckpt', help='teacher weights (overrides '
                        'model.teacher_ckpt)')
    parser.add_argument('--student-ckpt', help='student weights, or a '
                        'distiller checkpoint (its student is taken)')
    parser.add_argument('--num-images', type=int, default=32,
                        help='batch size N of the relation matrix')
    parser.add_argument('--out-dir', default='work_dirs/vis_similarity',
                        help='where the PNG files go')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    return parser.parse_args(args)


def build_distiller(args):
    """The distiller of ``args.config`` with the CLI's weights, in eval."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        cfg = read_config(args.config)
    except (FileNotFoundError, SyntaxError) as e:
        raise SystemExit(str(e))
    cfg.merge_from_dict(args.cfg_options or {})
    if 'student' not in cfg.model or 'teacher' not in cfg.model:
        raise SystemExit(f'{args.config}: model has no student/teacher; '
                         'give a distiller config.')
    if args.teacher_ckpt is not None:
        cfg.model.teacher_ckpt = args.teacher_ckpt
    if args.student_ckpt is not None:
        cfg.model.student_ckpt = args.student_ckpt
    try:
        with DefaultScope.overwrite_default_scope('mmkd'):
            model = MODELS.build(cfg.model)
    except FileNotFoundError as e:
        raise SystemExit(f'{e} Pass --teacher-ckpt PATH, or --cfg-options '
                         'model.teacher_ckpt=None for random weights.')
    return cfg, model.eval()


def load_batch(cfg, model, num_images):
    """``(inputs, labels, raw uint8 CHW images, class names)`` of
    ``num_images`` test images taken round robin over the classes."""
    val = cfg.get('val_dataloader') or {}
    ds_cfg = val.get('dataset')
    if ds_cfg is None:
        ds_cfg = dict(type='CIFAR10Mini', split='test',
                      pipeline=[dict(type='PackInputs')])
    with DefaultScope.overwrite_default_scope('mmkd'):
        dataset = DATASETS.build(ds_cfg)
    if len(dataset) < num_images:
        raise SystemExit(f'--num-images={num_images} but the dataset has '
                         f'{len(dataset)} images; ask for fewer.')
    # round robin over the classes: the first images of a class-sorted set
    # would all be airplanes
    order = class_balanced_order(dataset.get_gt_labels())[:num_images]
    data = pseudo_collate([dataset[i] for i in order])
    raw = [img.clone() for img in data['inputs']]
    data = model.data_preprocessor(data, False)
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    classes = dataset.metainfo.get('classes') or []
    return data['inputs'], labels, raw, list(classes)


def quantities(classifier, inputs, labels):
    """(relation matrix [N, N], fc weight gradient [K, C])."""
    fc = classifier_fc(classifier, 'model')
    with torch.enable_grad():
        feat, logits = forward_parts(classifier, inputs)
        loss = F.cross_entropy(logits, labels)
        grad = torch.autograd.grad(loss, fc.weight, allow_unused=False)[0]
    return relation_matrix(feat.detach()), grad.detach()


def compute(model, inputs, labels):
    """Teacher and student matrices and the two distances."""
    model.teacher.requires_grad_(True)
    g_t, grad_t = quantities(model.teacher, inputs, labels)
    g_s, grad_s = quantities(model.student, inputs, labels)
    if grad_t.shape[1] != grad_s.shape[1]:
        grad_t = pool_channels(grad_t, grad_s.shape[1])
    e_t, e_s = semantic_matrices(grad_t), semantic_matrices(grad_s)
    return dict(
        relation=(g_t, g_s), semantic=(e_t.mean(0), e_s.mean(0)),
        M_r=relation_distance(g_s, g_t).item(),
        M_s=semantic_distance(e_s, e_t).item())


def plot_pair(mat_t, mat_s, title, path):
    fig = figure_pair(mat_t, mat_s, title)
    fig.savefig(path, dpi=DPI)  # no bbox_inches: keep the size fixed
    plt.close(fig)


def figure_pair(mat_t, mat_s, title):
    """Teacher, student and difference heat maps, each with its colour bar
    (a constrained layout keeps every bar clear of the next panel)."""
    fig, axes = plt.subplots(1, 3, figsize=FIGSIZE, dpi=DPI,
                             layout='constrained')
    for ax, mat, name, cmap in zip(
            axes, (mat_t, mat_s, mat_t - mat_s),
            ('teacher', 'student', 'teacher - student'),
            ('viridis', 'viridis', 'coolwarm')):
        mat = mat.cpu().numpy()
        if cmap == 'coolwarm':
            v = max(abs(mat).max(), 1e-12)
            im = ax.imshow(mat, cmap=cmap, vmin=-v, vmax=v)
        else:
            im = ax.imshow(mat, cmap=cmap)
        ax.set_title(f'{name}  {mat.shape[0]}x{mat.shape[1]}')
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(title)
    return fig


def main():
    args = parse_args()
    cfg, model = build_distiller(args)
    inputs, labels, _, _ = load_batch(cfg, model, args.num_images)
    out = compute(model, inputs, labels)
    os.makedirs(args.out_dir, exist_ok=True)
    rel = osp.join(args.out_dir, 'relation.png')
    sem = osp.join(args.out_dir, 'semantic.png')
    plot_pair(*out['relation'], f'relation G = rownorm(A A^T), '
              f'M_r = {out["M_r"]:.6g}', rel)
    plot_pair(*out['semantic'], 'semantic mean_k rownorm(g_k g_k^T), '
              f'M_s = {out["M_s"]:.6g}', sem)
    print(f'M_r: {out["M_r"]:.6g}')
    print(f'M_s: {out["M_s"]:.6g}')
    print(f'saved {rel}')
    print(f'saved {sem}')


if __name__ == '__main__':
    main()
