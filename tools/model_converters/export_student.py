"""Write a student-only checkpoint from a distillation checkpoint.

    python tools/model_converters/export_student.py IN.pth OUT.pth [--force]

The output holds ``{'state_dict': ..., 'meta': ...}`` with the student's
keys without the ``student.`` prefix (teacher, connectors and distill losses
dropped), so mmpretrain's ``ImageClassifier`` built from the student's
config loads it as is (``load_checkpoint`` or ``init_cfg=Pretrained``), and
``tools/test.py STUDENT_CONFIG OUT.pth`` evaluates it.
"""
import argparse
import os.path as osp

import torch

import mmkd
from mmkd.utils.checkpoint import load_checkpoint_file


def export_student(src: str, dst: str, force: bool = False) -> dict:
    """Export the student of ``src`` to ``dst``; returns the state dict."""
    if osp.exists(dst) and not force:
        raise FileExistsError(f'{dst!r} exists; pass --force to overwrite.')
    checkpoint = load_checkpoint_file(src)
    state = checkpoint.get('state_dict', checkpoint)
    student = {
        k[len('student.'):]: v
        for k, v in state.items() if k.startswith('student.')
    }
    if not student:
        raise ValueError(f'{src!r} has no student.* keys: it is not a '
                         'distiller checkpoint (a plain classifier '
                         'checkpoint is already student-only).')
    meta = dict(mmkd_version=mmkd.__version__, source=osp.abspath(src))
    src_meta = checkpoint.get('meta') or {}
    for key in ('dataset_meta', 'epoch', 'iter'):
        if key in src_meta:
            meta[key] = src_meta[key]
    torch.save(dict(state_dict=student, meta=meta), dst)
    return student


def parse_args(args=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='distillation checkpoint')
    parser.add_argument('dst', help='output student checkpoint')
    parser.add_argument('--force', action='store_true',
                        help='overwrite dst if it exists')
    return parser.parse_args(args)


def main():
    args = parse_args()
    student = export_student(args.src, args.dst, args.force)
    print(f'wrote {len(student)} student tensors to {args.dst}')


if __name__ == '__main__':
    main()
