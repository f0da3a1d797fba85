"""What resume checks compare: a config value as JSON, a file's checksum.

Used by the search's fingerprint (:mod:`mmkd.search.records`) and the
teacher store's manifest (:mod:`mmkd.datasets.teacher_store`).
"""
import hashlib
import json
from typing import Optional


def as_json(obj):
    """``obj`` as it reads back from JSON (ConfigDicts and tuples become
    dicts and lists; other objects their ``str``)."""
    return json.loads(json.dumps(obj, default=str))


def file_sha256(path: Optional[str]) -> Optional[str]:
    """SHA-256 of a file's bytes (None for no file)."""
    if path is None:
        return None
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()
