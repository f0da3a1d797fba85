"""mmkd's one rule for relative paths in configs.

- A path to another **config file** (a search's ``train_template``, a
  pipeline's stages, ``_base_``) is relative to the config file that
  names it: the file in the ``_base_`` chain that sets the value, so a
  config inherited from another folder keeps working. A value given with
  ``--cfg-options`` is relative to the working directory (the tools make
  it absolute before merging it).
- A path to **data or weights** (``teacher_ckpt``, ``student_ckpt``,
  ``data_root``, ``load_from``, ``--resume``) is relative to the working
  directory, as in mmengine and mmpretrain.
"""
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config

_MISSING = object()


def _lookup(cfg, keys: Sequence[str]):
    for key in keys:
        if not isinstance(cfg, dict) or key not in cfg:
            return _MISSING
        cfg = cfg[key]
    return cfg


def _base_paths(filename: str):
    base_dir = osp.dirname(osp.abspath(filename))
    return [
        osp.join(base_dir, b) for b in Config._get_base_files(filename)
        if '::' not in b  # package bases (mmpretrain::...) hold no mmkd path
    ]


def setting_file(filename: str, keys: Sequence[str]) -> Optional[str]:
    """The file of ``filename``'s ``_base_`` chain that sets the value at
    ``keys`` (e.g. ``('train_cfg', 'train_template')``): the nearest file
    whose value differs from those of all its bases. None if unset."""
    value = _lookup(Config.fromfile(filename).to_dict(), keys)
    if value is _MISSING:
        return None
    for base in _base_paths(filename):
        if _lookup(Config.fromfile(base).to_dict(), keys) == value:
            return setting_file(base, keys)
    return osp.abspath(filename)


def resolve_config_path(path: str, filename: Optional[str],
                        keys: Sequence[str]) -> str:
    """The absolute path of a config-file reference ``path`` found at
    ``keys`` of the config ``filename``, by the rule above; raises
    FileNotFoundError naming the path tried."""
    field = '.'.join(keys)
    if osp.isabs(path):
        tried = path
    else:
        setter = setting_file(filename, keys) if filename else None
        tried = osp.normpath(osp.join(osp.dirname(setter), path)) if setter \
            else osp.abspath(path)
    if osp.isfile(tried):
        return osp.abspath(tried)
    where = (f'relative to {setter}, the config that sets it'
             if not osp.isabs(path) and setter else 'as given')
    raise FileNotFoundError(
        f'{field}={path!r} does not exist (tried {tried}, {where}); a path '
        'to a config file is relative to the config file that sets it.')
