"""KD from a teacher store: the rebuilt top-k distribution against hand
numbers, the same losses as online KD on the same views, and build-time
refusals."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmkd.datasets import TeacherStoreDataset, TeacherStoreSampler
from mmkd.datasets.teacher_store import store_topk, write_teacher_store
from mmkd.models.algorithms import (SingleTeacherDistiller,
                                    StoreTeacherDistiller, build_classifier,
                                    store_logits)
from mmkd.models.losses import KDLoss
from mmkd.registry import DATASETS, MODELS

from conftest import tiny_classifier

PIPELINE = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
DATASET = dict(type='CIFAR10Mini', split='train',
               indices=list(range(0, 5000, 417)), pipeline=PIPELINE)
PREPROCESSOR = dict(type='ClsDataPreprocessor', num_classes=10,
                    mean=[125.3, 123.0, 113.9], std=[51.6, 50.8, 51.3],
                    to_rgb=True)
TEACHER = tiny_classifier(widths=(4, 8, 16))
STUDENT = tiny_classifier(widths=(4, 4, 8))
KD = dict(loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                       inputs=dict(preds_S='s_logits', preds_T='t_logits')))


def test_store_logits_hand_numbers():
    # teacher logits [2, 1, 0, -1]; a top-2 store keeps 2, 1 and the mass
    # m = (e^0 + e^-1) / (e^2 + e^1 + e^0 + e^-1) of the other two
    e = math.exp
    m = (1 + e(-1)) / (e(2) + e(1) + 1 + e(-1))
    full = store_logits(torch.tensor([[2., 1.]]), torch.tensor([[0, 1]]),
                        torch.tensor([m]), 4)
    # r = log(m / (1 - m)) + log(e^2 + e^1) - log 2 = log((1 + e^-1) / 2)
    r = math.log((1 + e(-1)) / 2)
    assert full.tolist()[0] == pytest.approx([2, 1, r, r], abs=1e-6)
    # at T = 1: the top-2 probabilities and the rest's mass are the teacher's
    p = F.softmax(full, 1)[0].tolist()
    z = e(2) + e(1) + 1 + e(-1)
    assert p[:2] == pytest.approx([e(2) / z, e(1) / z], rel=1e-6)
    assert p[2] + p[3] == pytest.approx(m, rel=1e-6)
    # KD (T = 4) on the rebuilt distribution, written out by hand
    s = [0.5, -0.5, 1.0, 0.0]
    pt = [e(v / 4) for v in (2, 1, r, r)]
    pt = [v / sum(pt) for v in pt]
    ps = [e(v / 4) for v in s]
    ps = [v / sum(ps) for v in ps]
    want = 16 * sum(a * math.log(a / b) for a, b in zip(pt, ps))
    got = KDLoss(tau=4)(torch.tensor([s]), full)
    assert float(got) == pytest.approx(want, rel=1e-5)
    # k = C: the logits themselves
    logits = torch.tensor([[0.3, -1.0, 2.0]])
    assert torch.equal(store_logits(*store_topk(logits, 3), 3), logits)


@pytest.fixture(scope='module')
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp('stores')
    torch.manual_seed(0)
    teacher = build_classifier(TEACHER, 'teacher')
    teacher.init_weights()
    teacher.eval()
    ckpt = str(root / 'teacher.pth')
    torch.save(teacher.state_dict(), ckpt)
    out = {}
    for topk in (None, 3):
        out[topk] = str(root / f'top{topk}')
        write_teacher_store(out[topk], teacher, MODELS.build(PREPROCESSOR),
                            DATASET, views=2, topk=topk, seed=0,
                            teacher_info=dict(model=TEACHER, ckpt=ckpt),
                            shard_size=5, batch_size=4)
    return out, ckpt, teacher


def _loader(store_dir):
    dataset = TeacherStoreDataset(DATASET, store_dir, seed=0)
    sampler = TeacherStoreSampler(dataset, shuffle=True, seed=1)
    return DataLoader(dataset, batch_size=4, sampler=sampler,
                      collate_fn=pseudo_collate), sampler


def _pair(store_dir, ckpt):
    torch.manual_seed(1)
    online = SingleTeacherDistiller(
        student=STUDENT, teacher=TEACHER, teacher_ckpt=ckpt,
        student_loss_weight=0.1, distill_losses=KD,
        data_preprocessor=PREPROCESSOR)
    from_store = StoreTeacherDistiller(
        student=STUDENT, teacher=TEACHER, teacher_ckpt=ckpt,
        teacher_store=store_dir, student_loss_weight=0.1,
        distill_losses=KD, data_preprocessor=PREPROCESSOR)
    from_store.student.load_state_dict(online.student.state_dict())
    return online, from_store


def test_kd_from_store_equals_online_kd_on_the_same_views(store):
    stores, ckpt, _ = store
    online, from_store = _pair(stores[None], ckpt)
    assert not dict(from_store.named_children()).get('teacher')
    optims = [torch.optim.SGD(m.student.parameters(), lr=0.1)
              for m in (online, from_store)]
    loader, sampler = _loader(stores[None])
    steps = 0
    for epoch in range(2):  # both stored views, one per epoch
        sampler.set_epoch(epoch)
        for batch in loader:
            losses = []
            for model, optim in zip((online, from_store), optims):
                model.train()
                data = model.data_preprocessor(batch, True)
                loss = model.loss(**data)
                losses.append(loss)
                optim.zero_grad()
                sum(loss.values()).backward()
                optim.step()
            assert sorted(losses[0]) == sorted(losses[1]) == [
                'loss_kd', 'student.loss']
            for key in losses[0]:
                torch.testing.assert_close(losses[1][key], losses[0][key],
                                           rtol=2e-3, atol=2e-4)
            steps += 1
    assert steps == 2 * 3
    for a, b in zip(online.student.parameters(),
                    from_store.student.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


def test_topk_store_gives_the_rebuilt_logits(store):
    stores, ckpt, teacher = store
    _, from_store = _pair(stores[3], ckpt)
    loader, _ = _loader(stores[3])
    batch = next(iter(loader))
    data = from_store.data_preprocessor(batch, False)
    got = from_store.teacher_side.forward(data['inputs'],
                                          data['data_samples'])['t_logits']
    with torch.no_grad():
        online = teacher(data['inputs'], mode='tensor')
    want = store_logits(*store_topk(online, 3), 10)
    torch.testing.assert_close(got, want, rtol=2e-3, atol=2e-3)
    # the top-3 classes are the teacher's
    assert torch.equal(got.topk(3).indices.sort(1).values,
                       online.topk(3).indices.sort(1).values)


def test_store_distiller_refusals(store, tmp_path):
    stores, ckpt, _ = store
    args = dict(student=STUDENT, teacher=TEACHER, teacher_ckpt=ckpt,
                teacher_store=stores[None], data_preprocessor=PREPROCESSOR,
                distill_losses=KD)
    with pytest.raises(ValueError, match='holds its logits only'):
        StoreTeacherDistiller(**args, taps=dict(t_feat='teacher.backbone'))
    other = tmp_path / 'other.pth'
    torch.save({'w': torch.zeros(1)}, other)
    with pytest.raises(ValueError, match='not the checkpoint'):
        StoreTeacherDistiller(**dict(args, teacher_ckpt=str(other)))
    with pytest.raises(ValueError, match='not the teacher'):
        StoreTeacherDistiller(**dict(args, teacher=STUDENT))
    with pytest.raises(FileNotFoundError, match='build_teacher_store'):
        StoreTeacherDistiller(**dict(args, teacher_store=str(tmp_path)))
    model = StoreTeacherDistiller(**args)
    plain = DATASETS.build(DATASET)
    data = model.data_preprocessor(pseudo_collate([plain[0]]), True)
    with pytest.raises(KeyError, match='TeacherStoreDataset'):
        model.loss(**data)
