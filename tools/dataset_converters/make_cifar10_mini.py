"""Build the CIFAR-10 subset bundled with mmkd (``cifar10_mini.npz``).

Reads the JPEG copy of CIFAR-10 (``train.tar`` and ``test.tar``, members
``{split}/<class>/<index>.jpg``) straight from the tars, keeps the first
``--train-per-class`` / ``--test-per-class`` images of every class, ordered by
file name, and stores their JPEG bytes unchanged in one ``.npz`` that
:class:`mmkd.datasets.CIFAR10Mini` reads.

Keys written (no object arrays, so ``np.load(allow_pickle=False)`` works):

- ``{split}_jpeg``: uint8, the JPEG files of the split concatenated.
- ``{split}_offsets``: int64, length n+1; image i is
  ``jpeg[offsets[i]:offsets[i + 1]]``.
- ``{split}_labels``: int64, index into ``classes``.
- ``{split}_names``: unicode, the member names, e.g. ``train/cat/0003.jpg``.
- ``classes``: unicode, alphabetical (= label order).
- ``source_files`` / ``source_sha256``: the tars read and their sha256.

Examples:
    Rebuild the bundled file with the defaults (run from the repo root)::

        python tools/dataset_converters/make_cifar10_mini.py

    A smaller file from another copy of the tars::

        python tools/dataset_converters/make_cifar10_mini.py \\
            --src /data/cifar10 --train-per-class 100 --test-per-class 50 \\
            --out /tmp/cifar10_tiny.npz
"""
import argparse
import hashlib
import io
import os.path as osp
import sys
import tarfile
from collections import defaultdict

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_SRC = osp.normpath(osp.join(REPO_ROOT, '..', 'shared', 'data',
                                    'cifar10'))
DEFAULT_OUT = osp.join(REPO_ROOT, 'mmkd', 'datasets', 'data',
                       'cifar10_mini.npz')
SPLITS = ('train', 'test')
MAX_BYTES = 10 * 1000 * 1000  # 10 MB: keep the wheel and the repo small.


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Build the CIFAR-10 subset bundled with mmkd from the '
        'JPEG tars (train.tar, test.tar).')
    parser.add_argument(
        '--src',
        default=DEFAULT_SRC,
        help='folder holding train.tar and test.tar (default: %(default)s)')
    parser.add_argument(
        '--out',
        default=DEFAULT_OUT,
        help='output .npz file (default: %(default)s)')
    parser.add_argument(
        '--train-per-class',
        type=int,
        default=500,
        help='images per class taken from the train split, the first ones '
        'by file name (default: %(default)s)')
    parser.add_argument(
        '--test-per-class',
        type=int,
        default=300,
        help='images per class taken from the test split, the first ones '
        'by file name (default: %(default)s)')
    parser.add_argument(
        '--max-mb',
        type=float,
        default=MAX_BYTES / 1e6,
        help='refuse to write a file larger than this many MB (10^6 bytes) '
        '(default: %(default)s)')
    return parser.parse_args(args)


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def read_split(tar_path, split, per_class):
    """Read the first ``per_class`` JPEGs of every class of one split.

    Args:
        tar_path (str): Path of ``{split}.tar``.
        split (str): ``'train'`` or ``'test'``; members are
            ``{split}/<class>/<file>.jpg``.
        per_class (int): How many images to keep per class, the first ones
            by file name.

    Returns:
        tuple: ``(classes, names, blobs)`` with the class names sorted
        alphabetically, the kept member names (class by class, by file name)
        and their bytes.
    """
    with tarfile.open(tar_path) as tar:
        members = defaultdict(dict)
        for member in tar.getmembers():
            parts = member.name.split('/')
            if (not member.isfile() or len(parts) != 3 or parts[0] != split
                    or not parts[2].lower().endswith('.jpg')):
                continue
            members[parts[1]][parts[2]] = member
        if not members:
            raise SystemExit(
                f'error: {tar_path} has no members like {split}/<class>/*.jpg;'
                f' pass --src the folder of the CIFAR-10 JPEG tars.')

        classes = sorted(members)
        names, blobs = [], []
        for cls in classes:
            files = sorted(members[cls])
            if len(files) < per_class:
                raise SystemExit(
                    f'error: class {cls!r} of {tar_path} has {len(files)} '
                    f'images, fewer than the {per_class} asked for; lower '
                    f'--{split}-per-class.')
            for file_name in files[:per_class]:
                names.append(f'{split}/{cls}/{file_name}')
                blobs.append(tar.extractfile(members[cls][file_name]).read())
    return classes, names, blobs


def main():
    args = parse_args()
    per_class = dict(train=args.train_per_class, test=args.test_per_class)
    for split, n in per_class.items():
        if n < 1:
            raise SystemExit(
                f'error: --{split}-per-class must be >= 1, got {n}.')

    tar_paths = [osp.join(args.src, f'{split}.tar') for split in SPLITS]
    for tar_path in tar_paths:
        if not osp.isfile(tar_path):
            raise SystemExit(
                f'error: {tar_path} not found; pass --src the folder that '
                f'holds the CIFAR-10 JPEG tars (train.tar and test.tar), '
                f'default {DEFAULT_SRC}.')

    arrays = {}
    classes = None
    for split, tar_path in zip(SPLITS, tar_paths):
        split_classes, names, blobs = read_split(tar_path, split,
                                                 per_class[split])
        if classes is None:
            classes = split_classes
        elif split_classes != classes:
            raise SystemExit(
                f'error: the classes of {tar_path} ({split_classes}) differ '
                f'from those of the train split ({classes}).')
        sizes = np.array([len(b) for b in blobs], dtype=np.int64)
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        arrays[f'{split}_jpeg'] = np.frombuffer(b''.join(blobs), np.uint8)
        arrays[f'{split}_offsets'] = offsets
        arrays[f'{split}_labels'] = np.array(
            [classes.index(n.split('/')[1]) for n in names], dtype=np.int64)
        arrays[f'{split}_names'] = np.array(names, dtype=np.str_)
        print(f'{split}: {len(names)} images ({per_class[split]} per class '
              f'x {len(classes)} classes), {offsets[-1] / 1e6:.2f} MB of JPEG')

    arrays['classes'] = np.array(classes, dtype=np.str_)
    arrays['source_files'] = np.array([osp.basename(p) for p in tar_paths],
                                      dtype=np.str_)
    arrays['source_sha256'] = np.array([sha256_of(p) for p in tar_paths],
                                       dtype=np.str_)

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    max_bytes = int(args.max_mb * 1e6)
    if len(data) > max_bytes:
        raise SystemExit(
            f'error: the output would be {len(data) / 1e6:.2f} MB, over the '
            f'{max_bytes / 1e6:g} MB limit; lower --train-per-class / '
            f'--test-per-class. Nothing was written.')

    out_dir = osp.dirname(osp.abspath(args.out))
    if not osp.isdir(out_dir):
        raise SystemExit(f'error: the output folder {out_dir} does not '
                         f'exist; create it or pass another --out.')
    with open(args.out, 'wb') as f:
        f.write(data)
    print(f'classes: {" ".join(classes)}')
    for name, digest in zip(arrays['source_files'], arrays['source_sha256']):
        print(f'source {name}: sha256 {digest}')
    print(f'wrote {args.out}: {len(data)} bytes ({len(data) / 1e6:.2f} MB), '
          f'sha256 {hashlib.sha256(data).hexdigest()}')


if __name__ == '__main__':
    sys.exit(main())
