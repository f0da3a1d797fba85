"""Read the model index: ``model-index.yml`` and ``configs/*/metafile.yml``.

The files follow OpenMMLab's model-index format (as mmpretrain's), with two
mmkd blocks in each result: ``Published`` (the figure a paper or an
official README reports, with its source) and ``Measured`` (how mmkd's own
figure in ``Metrics`` was obtained). The schema is documented in
``docs/user_guides/reproduce.md``.
"""
import os.path as osp
from typing import Dict, List

import yaml

INDEX_FILE = 'model-index.yml'
METAFILE = 'metafile.yml'
# configs/ sub-directories that hold no configs to reproduce
NOT_METHOD_DIRS = ('_base_', )


def read_yaml(path: str) -> dict:
    with open(path) as f:
        return yaml.safe_load(f) or {}


def metafile_paths(root: str) -> List[str]:
    """The metafiles ``model-index.yml`` imports, relative to ``root``."""
    return list(read_yaml(osp.join(root, INDEX_FILE)).get('Import') or [])


def load_entries(root: str) -> Dict[str, dict]:
    """Every model entry, keyed by its ``Config`` path (relative to root).

    Each entry gets ``_metafile`` (the metafile that holds it).
    """
    entries = {}
    for path in metafile_paths(root):
        for model in read_yaml(osp.join(root, path)).get('Models') or []:
            entries[osp.normpath(model['Config'])] = dict(model,
                                                          _metafile=path)
    return entries


def published_top1(entry: dict):
    """``(value or None, source)`` of an entry's first result."""
    published = (entry.get('Results') or [{}])[0].get('Published') or {}
    return published.get('Top 1 Accuracy'), published.get('Source', 'none')


def entry_skeleton(config: str, collection: str) -> str:
    """A metafile entry to paste for ``config`` (a path under configs/)."""
    stem = osp.splitext(osp.basename(config))[0]
    return (f'- Name: {stem}\n'
            f'  In Collection: {collection}\n'
            f'  Config: {config}\n'
            '  Metadata:\n'
            '    Teacher: <teacher>\n'
            '    Student: <student>\n'
            '    Training Data: <CIFAR-100 | ImageNet-1k | ...>\n'
            '    Epochs: <max_epochs>\n'
            '    Batch Size: <total batch>\n'
            '  Results:\n'
            '  - Task: Image Classification\n'
            '    Dataset: <as Training Data>\n'
            '    Metrics: {}   # mmkd\'s measured top-1 only, with Measured\n'
            '    Published:\n'
            '      Top 1 Accuracy: null   # or the figure your README '
            'quotes\n'
            '      Source: none   # or "<paper table / README> (quoted in '
            'configs/<dir>/README.md)"\n')
