"""Params and FLOPs of a distiller's teacher and student.

    python tools/analysis/get_complexity.py CONFIG [--shape 3 32 32]
        [--cfg-options k=v ...]

Counts with :func:`mmengine.analysis.get_model_complexity_info` on one
input of ``--shape`` (backbone, neck and head; FLOPs count one multiply-add
as one, as mmengine does) and prints a table of teacher, student and
student / teacher. Weights are not needed: the teacher is built without its
checkpoint.
"""
import argparse
import copy
import os
import sys

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import DictAction
from mmengine.registry import DefaultScope

import mmkd  # noqa: F401
from mmkd.models.algorithms import build_classifier
from mmkd.utils.config_checks import read_config


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Params and FLOPs of teacher and student')
    parser.add_argument('config', help='distiller config file path')
    parser.add_argument('--shape', type=int, nargs='+', default=[3, 32, 32],
                        help='input shape C H W (one image)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    return parser.parse_args(args)


class _Tensor(torch.nn.Module):
    """``classifier(x, mode='tensor')`` as a plain module for the counter."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(x, mode='tensor')


def complexity(classifier, shape):
    """``(params, flops)`` of one classifier on one input of ``shape``."""
    params = sum(p.numel() for p in classifier.parameters())
    info = get_model_complexity_info(
        _Tensor(classifier).eval(), input_shape=tuple(shape),
        show_table=False, show_arch=False)
    return params, int(info['flops'])


def fmt(n):
    for unit, size in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if n >= size:
            return f'{n / size:.2f}{unit}'
    return str(n)


def main():
    args = parse_args()
    if len(args.shape) != 3:
        raise SystemExit(f'--shape takes C H W, got {args.shape}.')
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
    rows = {}
    with DefaultScope.overwrite_default_scope('mmkd'):
        for role in ('teacher', 'student'):
            model = build_classifier(copy.deepcopy(cfg.model[role]),
                                     f'model.{role}')
            rows[role] = complexity(model, args.shape)
    (p_t, f_t), (p_s, f_s) = rows['teacher'], rows['student']
    shape = 'x'.join(map(str, args.shape))
    lines = [f'input shape: {shape}',
             f'{"model":<18}{"params":>12}{"FLOPs":>16}',
             f'{"teacher":<18}{p_t:>12d}{f_t:>16d}',
             f'{"student":<18}{p_s:>12d}{f_s:>16d}',
             f'{"student/teacher":<18}{p_s / p_t:>12.4f}{f_s / f_t:>16.4f}',
             f'teacher: {fmt(p_t)} params, {fmt(f_t)} FLOPs; '
             f'student: {fmt(p_s)} params, {fmt(f_s)} FLOPs']
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
