import io
import os.path as osp
import subprocess
import sys
import tarfile

import mmcv
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mmkd.datasets import CIFAR10Mini
from mmkd.datasets.cifar10_mini import BUNDLED_FILE

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The JPEG copy of CIFAR-10 the bundled file was cut from (CI keeps it beside
# the repository); the tests that need it are skipped when it is absent.
CIFAR10_DIR = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'cifar10')
needs_tars = pytest.mark.skipif(
    not (osp.isfile(osp.join(CIFAR10_DIR, 'train.tar'))
         and osp.isfile(osp.join(CIFAR10_DIR, 'test.tar'))),
    reason=f'CIFAR-10 JPEG tars not found in {CIFAR10_DIR}')

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
PER_CLASS = dict(train=500, test=300)
TRAIN_PIPELINE = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]


@pytest.fixture(scope='module', params=['train', 'test'])
def dataset(request):
    return CIFAR10Mini(split=request.param)


def bundled_jpeg(split, index):
    with np.load(BUNDLED_FILE, allow_pickle=False) as data:
        offsets = data[f'{split}_offsets']
        return data[f'{split}_jpeg'][offsets[index]:offsets[index +
                                                             1]].tobytes()


def test_counts_per_class(dataset):
    per_class = PER_CLASS[dataset.split]
    labels = dataset.get_gt_labels()
    assert len(dataset) == 10 * per_class
    assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10
    # The first `per_class` files of every class, by file name.
    names = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert names[0] == f'{dataset.split}/airplane/0000.jpg'
    assert names[-1] == f'{dataset.split}/truck/{per_class - 1:04d}.jpg'


def test_label_order_is_alphabetical(dataset):
    assert dataset.metainfo['classes'] == CLASSES == tuple(sorted(CLASSES))
    for i in range(0, len(dataset), 97):
        info = dataset.get_data_info(i)
        assert CLASSES[info['gt_label']] == info['img_path'].split('/')[1]


def test_image_shape_and_dtype(dataset):
    info = dataset.get_data_info(len(dataset) - 1)
    assert set(info) >= {'img', 'gt_label', 'img_path'}
    assert info['img'].shape == (32, 32, 3)
    assert info['img'].dtype == np.uint8
    assert isinstance(info['gt_label'], int)


def test_images_are_bgr():
    dataset = CIFAR10Mini(split='test', indices=[0, 1234])
    for i, index in enumerate([0, 1234]):
        rgb = np.asarray(Image.open(io.BytesIO(bundled_jpeg('test', index))))
        img = dataset.get_data_info(i)['img']
        assert rgb.shape == img.shape
        # PIL and OpenCV may round the JPEG decode differently by one level.
        diff = np.abs(img.astype(int) - rgb[..., ::-1].astype(int))
        assert diff.max() <= 1
        assert np.abs(img.astype(int) - rgb.astype(int)).mean() > diff.mean()


@needs_tars
def test_images_equal_source_tar_members():
    for split, index in [('train', 1503), ('test', 2999)]:
        dataset = CIFAR10Mini(split=split, indices=[index])
        info = dataset.get_data_info(0)
        with tarfile.open(osp.join(CIFAR10_DIR, f'{split}.tar')) as tar:
            jpeg = tar.extractfile(info['img_path']).read()
        assert jpeg == bundled_jpeg(split, index)
        np.testing.assert_array_equal(info['img'], mmcv.imfrombytes(jpeg))


@needs_tars
def test_converter_agrees_with_bundled_file(tmp_path):
    out = tmp_path / 'tiny.npz'
    tool = osp.join(REPO_ROOT, 'tools', 'dataset_converters',
                    'make_cifar10_mini.py')
    subprocess.run([
        sys.executable, tool, '--src', CIFAR10_DIR, '--out',
        str(out), '--train-per-class', '2', '--test-per-class', '1'
    ],
                   check=True,
                   capture_output=True)
    dataset = CIFAR10Mini(split='train', data_file=str(out))
    assert len(dataset) == 20
    assert dataset.get_data_info(2)['img_path'] == 'train/automobile/0000.jpg'
    with np.load(out) as tiny, np.load(BUNDLED_FILE) as bundled:
        assert tiny['source_sha256'].tolist() == \
            bundled['source_sha256'].tolist()
        assert tiny['test_names'].tolist() == \
            bundled['test_names'][::300].tolist()


def test_dataloader_from_config():
    dataloader_cfg = dict(
        batch_size=8,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        collate_fn=dict(type='default_collate'),
        dataset=dict(
            type='CIFAR10Mini',
            split='test',
            indices=32,
            pipeline=TRAIN_PIPELINE))
    with DefaultScope.overwrite_default_scope('mmkd'):
        dataloader = Runner.build_dataloader(dataloader_cfg, seed=0)
    assert isinstance(dataloader.dataset, CIFAR10Mini)
    batch = next(iter(dataloader))
    assert tuple(batch['inputs'].shape) == (8, 3, 32, 32)
    assert len(batch['data_samples']) == 8
    assert 0 <= int(batch['data_samples'][0].gt_label) < 10


def test_bad_split():
    with pytest.raises(ValueError, match=r"split='val'.*'train', 'test'"):
        CIFAR10Mini(split='val')


def test_missing_file(tmp_path):
    missing = str(tmp_path / 'absent.npz')
    with pytest.raises(FileNotFoundError, match='make_cifar10_mini.py'):
        CIFAR10Mini(data_file=missing)


def test_integer_indices_give_every_class_equally():
    from mmkd.datasets import class_balanced_order
    assert class_balanced_order([0, 0, 0, 1, 1, 2]) == [0, 3, 5, 1, 4, 2]
    dataset = CIFAR10Mini(split='test', indices=25)
    labels = [dataset.get_data_info(i)['gt_label'] for i in range(25)]
    # any prefix is balanced: 0..9, 0..9, 0..4
    assert labels == list(range(10)) * 2 + list(range(5))
    assert dataset.get_data_info(10)['img_path'] == 'test/airplane/0001.jpg'
    # a list keeps its stored meaning (the file is sorted by class)
    listed = CIFAR10Mini(split='test', indices=[0, 300, 2999])
    assert [listed.get_data_info(i)['gt_label'] for i in range(3)] == \
        [0, 1, 9]
