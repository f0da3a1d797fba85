"""What a search leaves in its work dir, and how a re-run reads it back.

A search appends one JSON line per scored candidate to ``candidates.jsonl``
and keeps, in ``search_meta.json``, the *fingerprint* of everything that
changes a score: the space, searcher, proxies and their arguments,
constraints, seed, the teacher's config and a checksum of its weights, the
dataset, its pipeline, the data preprocessor, ``num_classes``, the batch
size and a checksum of the scored batch itself. A re-run in the same work
dir resumes only when the fingerprint is the same; otherwise it refuses
with one sentence naming what changed.

A kill during a write can leave a torn last line in ``candidates.jsonl``;
:func:`read_records` drops it (and rewrites the file without it), so the
resumed search appends onto a clean file and rescores that candidate.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List

import torch
from mmengine.dist import is_main_process

CANDIDATES = 'candidates.jsonl'
META = 'search_meta.json'
LATENCY = 'latency.json'
SUMMARY = 'search_summary.json'
PLOT = 'search_scores.png'
BEST_CONFIG = 'best_student_kd.py'


def tensor_sha256(*tensors: torch.Tensor) -> str:
    """SHA-256 of tensors' shapes, dtypes and values."""
    digest = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        digest.update(f'{tuple(t.shape)}{t.dtype}'.encode())
        digest.update(t.numpy().tobytes())
    return digest.hexdigest()


def _leaf_changes(old, new, path: str, out: List[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _leaf_changes(old.get(key), new.get(key),
                          f'{path}.{key}' if path else str(key), out)
    elif (isinstance(old, list) and isinstance(new, list)
          and len(old) == len(new)
          and any(isinstance(x, (dict, list)) for x in old + new)):
        for i, (a, b) in enumerate(zip(old, new)):
            _leaf_changes(a, b, f'{path}[{i}]', out)
    elif old != new:
        out.append(f'{path}: {_short(old)} -> {_short(new)}')


def _short(value, limit: int = 60) -> str:
    if isinstance(value, str) and len(value) == 64 and all(
            c in '0123456789abcdef' for c in value):
        return f'sha256 {value[:12]}'
    text = 'not recorded' if value is None else json.dumps(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def fingerprint_changes(old: dict, new: dict, limit: int = 4) -> List[str]:
    """Human-readable ``'field.key: old -> new'`` lines, at most ``limit``
    (then ``'... and N more'``)."""
    out: List[str] = []
    _leaf_changes(old, new, '', out)
    if len(out) > limit:
        out = out[:limit] + [f'... and {len(out) - limit} more']
    return out


def read_records(path: str, repair: bool = True) -> Dict[str, dict]:
    """The records of ``candidates.jsonl`` by name.

    A line that is not complete JSON (a write torn by a kill or a full
    disk) is dropped; with ``repair`` the file is rewritten without it, so
    later appends start on a fresh line.
    """
    if not osp.isfile(path):
        return {}
    records, good, torn = {}, [], 0
    with open(path) as f:
        for line in f:
            try:
                record = json.loads(line)
                name = record['name']
            except (json.JSONDecodeError, KeyError, TypeError):
                torn += 1
                continue
            if not line.endswith('\n'):
                line += '\n'
            records[name] = record
            good.append(line)
    if torn and repair:
        with open(path + '.tmp', 'w') as f:
            f.writelines(good)
        os.replace(path + '.tmp', path)
    return records


def append_records(path: str, records: Iterable[dict]) -> None:
    """Append records to ``candidates.jsonl`` and flush them to disk."""
    with open(path, 'a') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
        f.flush()
        os.fsync(f.fileno())


def read_json(path: str):
    """The JSON object in ``path``."""
    with open(path) as f:
        return json.load(f)


def write_json(path: str, obj, indent: int = 1) -> None:
    """Write JSON atomically (a kill leaves the old file or the new)."""
    with open(path + '.tmp', 'w') as f:
        json.dump(obj, f, indent=indent)
    os.replace(path + '.tmp', path)


def check_resumable(work_dir: str, fingerprint: dict) -> None:
    """Refuse to resume a work dir whose scored candidates came from other
    settings. A work dir with a fingerprint but no scored candidate (a
    search that failed at its start) is not protected: its fingerprint and
    latencies are discarded so the corrected re-run starts clean."""
    meta_path = osp.join(work_dir, META)
    if not osp.isfile(meta_path):
        return
    previous = read_json(meta_path)
    if previous == fingerprint:
        return
    if not read_records(osp.join(work_dir, CANDIDATES), repair=False):
        for name in (META, LATENCY) if is_main_process() else ():
            if osp.isfile(osp.join(work_dir, name)):
                os.remove(osp.join(work_dir, name))
        return
    changes = '; '.join(fingerprint_changes(previous, fingerprint))
    raise RuntimeError(
        f'{work_dir} holds a search scored with other settings ({changes}), '
        'so its scores would be stale: use another --work-dir, or '
        'tools/search.py --restart to discard them.')
