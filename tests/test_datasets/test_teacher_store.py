"""The teacher soft-label store: replayed views equal the drawn ones bit for
bit, the stored logits are the teacher's on those views, shards resume and
split over processes, and a store built from something else is refused."""
import copy
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS

from mmkd.datasets import (CIFAR10Mini, TeacherStore, TeacherStoreDataset,
                           TeacherStoreSampler)
from mmkd.datasets.teacher_store import (replay_pipeline, store_topk,
                                         write_teacher_store)
from mmkd.models.algorithms import build_classifier
from mmkd.registry import MODELS, TRANSFORMS

from conftest import tiny_classifier

CIFAR_PIPELINE = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
IMAGENET_PIPELINE = [
    dict(type='RandomResizedCrop', scale=24),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
PREPROCESSOR = dict(type='ClsDataPreprocessor', num_classes=10,
                    mean=[125.3, 123.0, 113.9], std=[51.6, 50.8, 51.3],
                    to_rgb=True)
INDICES = list(range(0, 5000, 500))  # one image of each class


def _original(pipeline):
    """mmpretrain's own transforms (not mmkd's), for the reference views."""
    return Compose([MMPRETRAIN_TRANSFORMS.build(t) for t in pipeline[:-1]])


def _replaying(pipeline):
    cfgs, _ = replay_pipeline(pipeline)
    return Compose([TRANSFORMS.build(t) for t in cfgs[:-1]])


@pytest.mark.parametrize('pipeline,image', [
    (CIFAR_PIPELINE, 'cifar'), (IMAGENET_PIPELINE, 'random')])
def test_replayed_view_equals_drawn_view(pipeline, image):
    if image == 'cifar':
        img = CIFAR10Mini(split='train', indices=[3]).get_data_info(0)['img']
    else:
        img = np.random.RandomState(0).randint(0, 256, (37, 53, 3),
                                               dtype=np.uint8)
    original, replaying = _original(pipeline), _replaying(pipeline)
    seen = set()
    for seed in range(24):
        np.random.seed(seed)
        want = original(dict(img=img.copy()))
        np.random.seed(seed)
        drawn = {}
        recorded = replaying(dict(img=img.copy(), aug_params=drawn))
        np.random.seed(seed + 1000)  # replay draws nothing
        replayed = replaying(dict(img=img.copy(), replay=drawn))
        for got in (recorded, replayed):
            assert got['img'].dtype == want['img'].dtype
            assert np.array_equal(got['img'], want['img'])
            assert got['flip'] == want['flip']
        seen.add(tuple(v for step in sorted(drawn) for v in drawn[step]))
    # the draws vary: crops move and flips happen both ways
    assert len(seen) > 12
    assert {s[-1] for s in seen} == {0, 1}


def test_flip_codes_and_bad_code():
    flip = TRANSFORMS.build(dict(type='ReplayRandomFlip', prob=0.5,
                                 direction='horizontal', step='1'))
    img = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
    out = flip(dict(img=img.copy(), replay={'1': (1, )}))
    assert out['flip_direction'] == 'horizontal'
    assert np.array_equal(out['img'], img[:, ::-1])
    out = flip(dict(img=img.copy(), replay={'1': (0, )}))
    assert not out['flip'] and np.array_equal(out['img'], img)
    with pytest.raises(ValueError, match='flip code 2'):
        flip(dict(img=img.copy(), replay={'1': (2, )}))


def test_replay_pipeline_names_what_it_cannot_replay():
    cfgs, steps = replay_pipeline(CIFAR_PIPELINE)
    assert [c['type'] for c in cfgs] == [
        'ReplayRandomCrop', 'ReplayRandomFlip', 'PackInputs']
    assert steps == [('0', 4), ('1', 1)]
    with pytest.raises(ValueError, match=r"step 1 \('ColorJitter'\)"):
        replay_pipeline([CIFAR_PIPELINE[0], dict(type='ColorJitter'),
                         dict(type='PackInputs')])


def test_store_topk_hand_numbers():
    logits = torch.tensor([[2., 1., 0., -1.], [0., 3., 0.5, -2.]])
    values, indices, mass = store_topk(logits, 2)
    assert indices.tolist() == [[0, 1], [1, 2]]
    assert values.tolist() == [[2., 1.], [3., 0.5]]
    e = np.exp
    want = [(e(0) + e(-1)) / (e(2) + e(1) + e(0) + e(-1)),
            (e(0) + e(-2)) / (e(0) + e(3) + e(0.5) + e(-2))]
    assert mass.tolist() == pytest.approx(want, rel=1e-6)
    assert store_topk(logits, 4)[2].tolist() == [0, 0]


def _dataset_cfg(pipeline=CIFAR_PIPELINE, indices=INDICES):
    return dict(type='CIFAR10Mini', split='train', indices=indices,
                pipeline=pipeline)


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    torch.manual_seed(0)
    model = build_classifier(tiny_classifier(widths=(4, 8, 8)), 'teacher')
    model.init_weights()
    model.eval()
    ckpt = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(model.state_dict(), ckpt)
    return model, ckpt


def _build(teacher, out, **kwargs):
    model, ckpt = teacher
    args = dict(views=2, seed=3, shard_size=4, batch_size=3,
                dataset=_dataset_cfg(),
                teacher_info=dict(model='tiny', ckpt=ckpt))
    args.update(kwargs)
    return write_teacher_store(str(out), model, MODELS.build(PREPROCESSOR),
                               **args)


def test_store_holds_the_teachers_logits_on_the_drawn_views(teacher,
                                                            tmp_path):
    assert _build(teacher, tmp_path) == dict(built=3, skipped=0,
                                             num_shards=3)
    store = TeacherStore(str(tmp_path))
    assert store.manifest['teacher']['ckpt_sha256'] is not None
    assert store.manifest['param_names'] == [
        '0.offset_h', '0.offset_w', '0.target_h', '0.target_w',
        '1.direction']
    data = CIFAR10Mini(split='train', indices=INDICES,
                       pipeline=CIFAR_PIPELINE)
    preprocessor = MODELS.build(PREPROCESSOR)
    for i in (0, 5, 9):
        for view in (0, 1):
            # the reference: mmpretrain's own pipeline, seeded as documented
            np.random.seed([3, view, i])
            sample = data[i]
            x = preprocessor(dict(inputs=[sample['inputs']],
                                  data_samples=[sample['data_samples']]),
                             False)['inputs']
            want = teacher[0](x, mode='tensor')[0]
            got = store.teacher_outputs(i, view)['logits']
            assert got.dtype == torch.float16
            torch.testing.assert_close(got.float(), want, atol=2e-3,
                                       rtol=1e-3)
    # the two views of a sample differ somewhere
    assert any(store.params(i, 0) != store.params(i, 1) for i in range(10))


def test_store_resumes_and_splits_over_processes(teacher, tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    _build(teacher, one, topk=3)
    # two "ranks" in turn: each builds its share, then each skips the rest
    assert _build(teacher, two, topk=3, rank=1, world_size=2)['built'] == 1
    assert _build(teacher, two, topk=3, rank=0, world_size=2)['built'] == 2
    shutil.rmtree(two / 'shard_00001')
    os.makedirs(two / 'shard_00002.tmp-r0')  # an interrupted shard
    assert _build(teacher, two, topk=3) == dict(built=1, skipped=2,
                                                num_shards=3)
    a, b = TeacherStore(str(one)), TeacherStore(str(two))
    for i in range(10):
        for view in (0, 1):
            assert a.params(i, view) == b.params(i, view)
            for key, value in a.teacher_outputs(i, view).items():
                assert torch.equal(value, b.teacher_outputs(i, view)[key])
    assert sorted(a.teacher_outputs(0, 0)) == [
        'rest_mass', 'topk_indices', 'topk_values']


def test_store_refuses_other_teacher_pipeline_seed(teacher, tmp_path):
    _build(teacher, tmp_path)
    with pytest.raises(ValueError, match='another seed'):
        _build(teacher, tmp_path, seed=4)
    with pytest.raises(ValueError, match='another topk'):
        _build(teacher, tmp_path, topk=2)
    other = tmp_path / 'other.pth'
    torch.save({'x': torch.ones(1)}, other)
    with pytest.raises(ValueError, match='another teacher'):
        _build(teacher, tmp_path, teacher_info=dict(model='tiny',
                                                    ckpt=str(other)))
    padded2 = [dict(CIFAR_PIPELINE[0], padding=2)] + CIFAR_PIPELINE[1:]
    with pytest.raises(ValueError, match='another pipeline'):
        TeacherStoreDataset(_dataset_cfg(padded2), str(tmp_path))
    with pytest.raises(ValueError, match='another dataset'):
        TeacherStoreDataset(_dataset_cfg(indices=INDICES[:5]),
                            str(tmp_path))
    with pytest.raises(ValueError, match='another seed'):
        TeacherStoreDataset(_dataset_cfg(), str(tmp_path), seed=0)
    shutil.rmtree(tmp_path / 'shard_00002')
    with pytest.raises(RuntimeError, match='lacks 1 of 3 shards'):
        TeacherStore(str(tmp_path))


def test_dataset_replays_the_stored_views(teacher, tmp_path):
    _build(teacher, tmp_path)
    dataset = TeacherStoreDataset(_dataset_cfg(), str(tmp_path), seed=3)
    data = CIFAR10Mini(split='train', indices=INDICES,
                       pipeline=CIFAR_PIPELINE)
    for i, view in ((0, 1), (7, 0)):
        np.random.seed([3, view, i])
        want = data[i]['inputs']
        np.random.seed(12345)
        got = dataset[(i, view)]
        assert torch.equal(got['inputs'], want)
        assert torch.equal(got['data_samples'].teacher_logits,
                           dataset.store.teacher_outputs(i, view)['logits'])
    with pytest.raises(TypeError, match='TeacherStoreSampler'):
        dataset[0]
    sampler = TeacherStoreSampler(dataset, shuffle=False)
    sampler.set_epoch(3)
    assert list(sampler)[:2] == [(0, 1), (1, 1)]
    with pytest.raises(TypeError, match='samples a TeacherStoreDataset'):
        TeacherStoreSampler(CIFAR10Mini(split='train', indices=[0]))
