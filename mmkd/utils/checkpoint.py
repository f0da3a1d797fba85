"""Safe checkpoint loading on torch >= 2.6 with mmengine 0.10.7.

torch >= 2.6 loads with ``weights_only=True`` by default: a pickle may then
rebuild only allow-listed types, so a checkpoint cannot run code. mmengine
0.10.7 writes checkpoints that hold a few more types (its ``HistoryBuffer``,
numpy arrays and scalars, ``collections.Counter`` in scheduler states), so
``--resume`` and loading a full mmengine checkpoint fail there with
``UnpicklingError``.

mmkd keeps ``weights_only=True`` everywhere and allow-lists exactly those
types (:func:`register_safe_globals`, run when mmkd is imported). The one
dangerous name such a pickle uses, ``builtins.getattr`` (``HistoryBuffer``
pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')``), is
mapped to ``_history_buffer_getattr``, which serves those methods and
refuses everything else. A checkpoint with any other type still fails, with
torch's message naming the type.
"""
import collections
import contextlib
import os
import pickle
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

_REGISTERED = False
_LOADED_LATER = []


@contextlib.contextmanager
def weights_loaded_later():
    """Models built inside expect every weight from a checkpoint loaded
    after the build (``tools/test.py``, a pipeline's up-front checks): a
    ``teacher_ckpt`` set to None then says so instead of warning that the
    teacher is random."""
    _LOADED_LATER.append(True)
    try:
        yield
    finally:
        _LOADED_LATER.pop()


def is_loaded_later() -> bool:
    """True inside :func:`weights_loaded_later`."""
    return bool(_LOADED_LATER)


def drop_checkpoint_fields(model_cfg):
    """A copy of a model config with every ``ckpt``/``*_ckpt`` set to None
    (recursively), for a model whose weights come from one checkpoint."""
    if isinstance(model_cfg, dict):
        return type(model_cfg)(
            (k, None if isinstance(k, str) and (k == 'ckpt' or k.endswith(
                '_ckpt')) else drop_checkpoint_fields(v))
            for k, v in model_cfg.items())
    if isinstance(model_cfg, (list, tuple)):
        return type(model_cfg)(drop_checkpoint_fields(v) for v in model_cfg)
    return model_cfg


def _history_buffer_getattr(obj, name):
    """``getattr`` restricted to public methods of ``HistoryBuffer``."""
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}), which mmkd does '
        'not allow; load only checkpoints written by mmengine/mmkd or plain '
        'state dicts.')


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core
    names = []
    for attr in ('_reconstruct', 'scalar'):
        fn = getattr(core.multiarray, attr)
        names.append((fn, f'{core.__name__}.multiarray.{attr}'))
        # checkpoints written under numpy 1.x name the old module path
        names.append((fn, f'numpy.core.multiarray.{attr}'))
    dtypes = [
        type(np.dtype(t)) for t in ('f8', 'f4', 'f2', 'i8', 'i4', 'i2', 'i1',
                                    'u8', 'u4', 'u2', 'u1', 'b1')
    ]
    return names + [np.ndarray, np.dtype] + dtypes


def register_safe_globals() -> None:
    """Allow-list the types mmengine writes into checkpoints (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        collections.Counter,
        (_history_buffer_getattr, 'builtins.getattr'),
    ] + _numpy_globals())
    _REGISTERED = True


def load_checkpoint_file(path: str, map_location='cpu') -> dict:
    """Load a checkpoint with ``weights_only=True``.

    Args:
        path (str): Local file path.
        map_location: Passed to :func:`torch.load`.

    Returns:
        dict: The loaded object.

    Raises:
        FileNotFoundError: The file does not exist.
        RuntimeError: The file is not a readable checkpoint.
    """
    register_safe_globals()
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist: check '
                                'the path (relative paths start at the '
                                'directory you run the tool from).')
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        reason = _unpickler_reason(e)
        if any(k in reason for k in ('GLOBAL', 'global', 'allowlist',
                                     'Can only build')):
            # ``from None``: torch's own text advises weights_only=False,
            # which would run the payload; it must not reach the user.
            raise RuntimeError(
                f'checkpoint {path!r} holds objects that mmkd does not load '
                f'with weights_only=True ({reason}), and mmkd refuses it on '
                'purpose because unpickling them could run code; load only '
                'checkpoints written by mmengine/mmkd or plain state '
                'dicts.') from None
        raise RuntimeError(f'checkpoint {path!r} cannot be read ({reason}): '
                           'the file is corrupt or not a torch checkpoint; '
                           're-download or re-train it.') from None
    except Exception as e:  # truncated zip, not a torch file, ...
        reason = _unpickler_reason(e)
        raise RuntimeError(f'checkpoint {path!r} cannot be read ({reason}): '
                           'the file is corrupt or not a torch checkpoint; '
                           're-download or re-train it.') from None


def _unpickler_reason(error: Exception) -> str:
    """The one informative line of torch's long weights_only message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith('WeightsUnpickler error:'):
            rest = line[len('WeightsUnpickler error:'):].strip()
            return rest or (lines[i + 1] if i + 1 < len(lines) else '')
    for line in lines:
        if any(k in line for k in ('GLOBAL', 'Unsupported', 'Can only')):
            return line
    return lines[0] if lines else ''


def extract_state_dict(checkpoint: dict,
                       prefix: Optional[str] = None) -> Dict[str, torch.Tensor]:
    """Get a model state dict out of a loaded checkpoint.

    Accepts an mmengine checkpoint (``{'state_dict': ..., 'meta': ...}``), a
    ``{'model': ...}`` dict or a bare state dict. With ``prefix`` (e.g.
    ``'student.'``), only keys that start with it are kept, without it; if no
    key starts with it, the state dict is returned unchanged.
    """
    if not isinstance(checkpoint, dict):
        raise RuntimeError('checkpoint is not a dict of tensors but a '
                           f'{type(checkpoint).__name__}; save a state dict.')
    state = checkpoint
    for key in ('state_dict', 'model'):
        if key in state and isinstance(state[key], dict):
            state = state[key]
            break
    if prefix and any(k.startswith(prefix) for k in state):
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
    return dict(state)


def load_model_weights(model: torch.nn.Module, path: str, role: str,
                       field: str) -> None:
    """Load ``path`` into ``model`` strictly, with errors that name the field.

    A distiller checkpoint (keys ``student.*``) gives its student, so an
    assistant trained by distillation can teach the next stage (TAKD).

    Args:
        model (nn.Module): The model to fill.
        path (str): Checkpoint file.
        role (str): ``'teacher'`` or ``'student'``, for messages.
        field (str): The config field that named the file, for messages.
    """
    try:
        checkpoint = load_checkpoint_file(path)
    except (FileNotFoundError, RuntimeError) as e:
        # mmkd's message once, not inner and wrapped
        raise type(e)(f'{field}: {e}') from None
    state = extract_state_dict(checkpoint, prefix='student.')
    state = {k[7:] if k.startswith('module.') else k: v
             for k, v in state.items()}
    load_state_strict(model, state, path, f'{field}', role)


def load_state_strict(module: torch.nn.Module, state: Dict[str, torch.Tensor],
                      path: str, field: str, role: str) -> None:
    """``module.load_state_dict(state, strict=True)`` with errors that name
    the field, the file and the first mismatched keys.

    Args:
        module (nn.Module): The module to fill.
        state (dict): Its state dict (prefixes already removed).
        path (str): The checkpoint file, for messages.
        field (str): The config field that named the file.
        role (str): What ``module`` is (``'teacher'``, ``'head1 on ...'``).
    """
    check_state_fits(module, state, path, field, role)
    module.load_state_dict(state, strict=True)


def check_state_fits(module: torch.nn.Module, state: Dict[str, torch.Tensor],
                     path: str, field: str, role: str) -> None:
    """Raise unless ``state`` has exactly ``module``'s keys and shapes.

    Args: as :func:`load_state_strict`.

    Raises:
        RuntimeError: Naming the field, the file and the first mismatched
            keys (or the first key whose shape differs).
    """
    own = module.state_dict()
    for key, value in state.items():
        if key in own and tuple(own[key].shape) != tuple(value.shape):
            hint = ''
            if 'head' in key or 'fc' in key:
                hint = (' (a different number of classes? set the '
                        f"{role}'s head num_classes to match the checkpoint)")
            raise RuntimeError(
                f'{field}: {key} has shape {tuple(value.shape)} in {path!r} '
                f'but {tuple(own[key].shape)} in the {role}{hint}.')
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise RuntimeError(
            f'{field}: {path!r} does not fit the {role} model: '
            f'{len(missing)} missing keys {missing[:5]}, {len(unexpected)} '
            f'unexpected keys {unexpected[:5]}; check that the {role} config '
            'matches the architecture the checkpoint was trained with.')
