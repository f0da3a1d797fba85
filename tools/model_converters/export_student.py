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

Beside ``OUT.pth`` the tool writes ``OUT.py`` (``--no-config`` skips it):
the training config with the student as its ``model`` (mmkd-only types
written ``mmkd.CIFARResNet``, so mmpretrain's registry finds them), so that
``mmpretrain.apis.init_model('OUT.py', 'OUT.pth')`` loads every key and
``ImageClassificationInferencer('OUT.py', pretrained='OUT.pth')`` runs.
Its source is ``--config`` or the config saved in ``IN.pth``'s meta.
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


def _scoped(cfg):
    """``cfg`` with every mmkd-only model type written ``mmkd.<type>``."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

    from mmkd.registry import MODELS
    if isinstance(cfg, dict):
        out = {k: _scoped(v) for k, v in cfg.items()}
        kind = out.get('type')
        if isinstance(kind, str) and '.' not in kind and '::' not in kind:
            with DefaultScope.overwrite_default_scope('mmpretrain'):
                known = MMPRETRAIN_MODELS.get(kind) is not None
            if not known and MODELS.get(kind) is not None:
                out['type'] = f'mmkd.{kind}'
        return out
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_scoped(v) for v in cfg)
    return cfg


def student_config(cfg) -> 'Config':
    """The training config ``cfg`` of a distiller, with its student as the
    ``model`` (loadable by mmpretrain's ``init_model``)."""
    from mmengine.config import Config

    from mmkd.models.algorithms.classifier import _model_of_config_file
    student = cfg.model.get('student')
    if student is None:
        raise ValueError('the config has no model.student: it is not a '
                         'distiller config; pass --config DISTILLER_CONFIG '
                         'or --no-config.')
    if isinstance(student, str):
        student = _model_of_config_file(student, 'model.student')
    student = dict(student)
    student.pop('init_cfg', None)  # the exported weights replace it
    if cfg.model.get('data_preprocessor') is not None:
        student['data_preprocessor'] = cfg.model.data_preprocessor
    out = cfg.to_dict()
    for key in ('load_from', 'resume', 'work_dir', 'launcher'):
        out.pop(key, None)
    out['model'] = _scoped(student)
    return Config(out)


def export_student(src: str, dst: str, force: bool = False,
                   config: str = None, write_config: bool = True) -> dict:
    """Export the student of ``src`` to ``dst`` (and its config to
    ``dst`` with ``.py``, unless ``write_config`` is False); returns the
    state dict."""
    if osp.exists(dst) and not force:
        raise FileExistsError(f'{dst!r} exists; pass --force to overwrite.')
    dst_cfg = osp.splitext(dst)[0] + '.py'
    if write_config and osp.exists(dst_cfg) and not force:
        raise FileExistsError(f'{dst_cfg!r} exists; pass --force to '
                              'overwrite, or --no-config.')
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
    plain = {k[len('student.'):] for k in state if k.startswith('student.')}
    if write_config and set(student) != plain:
        # e.g. SimKD: the exported model is more than the student
        print(f'not writing {dst_cfg}: the exported model is not the '
              "student alone; write its config by hand (see the "
              "distiller's README).")
        write_config = False
    if write_config:
        from mmengine.config import Config
        if config is not None:
            src_cfg = Config.fromfile(config)
        elif src_meta.get('cfg'):
            src_cfg = Config.fromstring(src_meta['cfg'], '.py')
        else:
            raise ValueError(f'{src!r} holds no training config in its '
                             'meta: pass --config DISTILLER_CONFIG, or '
                             '--no-config to write the weights alone.')
        exported = student_config(src_cfg)
    torch.save(dict(state_dict=student, meta=meta), dst)
    if write_config:
        exported.dump(dst_cfg)
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
    parser.add_argument('--no-config', action='store_true',
                        help='do not write the student config OUT.py')
    return parser.parse_args(args)


def main():
    args = parse_args()
    student = export_student(args.src, args.dst, args.force, args.config,
                             not args.no_config)
    print(f'wrote {len(student)} student tensors to {args.dst}')
    dst_cfg = osp.splitext(args.dst)[0] + '.py'
    if not args.no_config and osp.isfile(dst_cfg):
        print(f'wrote its config to {dst_cfg}')


if __name__ == '__main__':
    main()
