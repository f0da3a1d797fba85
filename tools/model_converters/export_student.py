"""Write a student-only checkpoint from a distillation checkpoint.

    python tools/model_converters/export_student.py IN.pth OUT.pth [--force]
    python tools/model_converters/export_student.py IN.pth OUT.pth \
        --config DISTILLER_CONFIG

The output holds ``{'state_dict': ..., 'meta': ...}``. Without ``--config``:
the student's keys without the ``student.`` prefix (teacher, connectors and
distill losses dropped). With ``--config``: the distiller is built from its
config, ``IN.pth`` is loaded into it strictly, and the checkpoint holds what
its ``export_state_dict()`` keeps (a plugin distiller such as SimKD, whose
exported model includes a projector and the teacher's classifier, says so
there). Either way mmpretrain's ``ImageClassifier`` built from the student's
config loads it as is (``load_checkpoint`` or ``init_cfg=Pretrained``), and
``tools/test.py STUDENT_CONFIG OUT.pth`` evaluates it.
"""
import argparse
import os.path as osp

import torch

import mmkd
from mmkd.utils.checkpoint import load_checkpoint_file


def _exported_by_config(config: str, state: dict) -> dict:
    """Build the distiller of ``config``, load ``state``, export it."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings

    from mmkd.models.algorithms import BaseDistiller
    from mmkd.registry import MODELS

    cfg = Config.fromfile(config)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    model_cfg = dict(cfg.model)
    for key in ('teacher_ckpt', 'student_ckpt'):
        model_cfg.pop(key, None)  # the checkpoint holds every weight
    with DefaultScope.overwrite_default_scope('mmkd'):
        model = MODELS.build(model_cfg)
    if not isinstance(model, BaseDistiller):
        raise TypeError(f'--config {config!r} builds a '
                        f'{type(model).__name__}, not a distiller; give the '
                        'config the checkpoint was trained with.')
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.export_state_dict()


def export_student(src: str, dst: str, force: bool = False,
                   config: str = None) -> dict:
    """Export the student of ``src`` to ``dst``; returns the state dict."""
    if osp.exists(dst) and not force:
        raise FileExistsError(f'{dst!r} exists; pass --force to overwrite.')
    checkpoint = load_checkpoint_file(src)
    state = checkpoint.get('state_dict', checkpoint)
    if config is not None:
        student = _exported_by_config(config, state)
    else:
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
    parser.add_argument('--config',
                        help='the distiller config: export what its '
                        'export_state_dict() keeps')
    return parser.parse_args(args)


def main():
    args = parse_args()
    student = export_student(args.src, args.dst, args.force, args.config)
    print(f'wrote {len(student)} student tensors to {args.dst}')


if __name__ == '__main__':
    main()
