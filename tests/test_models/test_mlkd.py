"""MLKD (Jin et al., CVPR 2023): the loss in both forms, the distiller and
the strong-view transform."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmkd.datasets.transforms import ExtraView
from mmkd.models.losses import KDLoss, MLKDLoss
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402

TAUS = (4., 3., 5., 2., 6.)


@pytest.fixture(autouse=True, scope='module')
def mmkd_scope():
    init_default_scope('mmkd')


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def np_softmax(z, tau):
    e = np.exp(z / tau - (z / tau).max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def np_kd(s, t, tau):
    ps, pt = np_softmax(s, tau), np_softmax(t, tau)
    return tau**2 * (pt * np.log(pt / ps)).sum(1)  # per sample


def np_cc(s, t, tau):
    ps, pt = np_softmax(s, tau), np_softmax(t, tau)
    return (pt.T @ pt - ps.T @ ps)**2 / s.shape[1]  # [K, K]


def np_bc(s, t, tau):
    ps, pt = np_softmax(s, tau), np_softmax(t, tau)
    return (pt @ pt.T - ps @ ps.T)**2 / s.shape[0]  # [N, N]


def views(seed):
    sw, tw = rand(6, 5, seed=seed), rand(6, 5, seed=seed + 1) * 2
    ss, ts = rand(6, 5, seed=seed + 2), rand(6, 5, seed=seed + 3) * 2
    return sw, tw, ss, ts


def masks(tw):
    p = np_softmax(tw, 1.)
    conf, cls = p.max(1), p.sum(0)
    return ((conf <= np.percentile(conf, 50)).astype(float),
            (cls <= np.percentile(cls, 50)).astype(float))


def test_code_form_matches_the_official_formula():
    sw, tw, ss, ts = views(0)
    m, n = masks(tw.numpy())
    a = [x.numpy() for x in (sw, tw, ss, ts)]
    w = 0.9
    ref = dict(
        kd_weak=w * sum(np_kd(a[0], a[1], t).mean() for t in TAUS) * m.mean(),
        kd_strong=w * (sum(np_kd(a[2], a[3], t).mean() for t in TAUS[:3]) +
                       sum(np_kd(a[0], a[1], t).mean() for t in TAUS[3:])),
        cc_weak=w * sum(np_cc(a[0], a[1], t).sum() for t in TAUS) * n.mean(),
        bc_weak=w * sum(np_bc(a[0], a[1], t).sum() for t in TAUS) * m.mean())
    got = MLKDLoss(mode='code')(sw, tw, ss, ts)
    assert set(got) == set(ref)
    for k in ref:
        assert got[k].item() == pytest.approx(ref[k]), k
    # the "mask" of the code form only scales: 3 of 6 samples are kept
    assert m.mean() == 0.5


def test_paper_form_masks_per_sample_and_class():
    sw, tw, ss, ts = views(10)
    m, n = masks(tw.numpy())
    a = [x.numpy() for x in (sw, tw, ss, ts)]
    w = 0.9
    ref = dict(
        kd_weak=w * sum((np_kd(a[0], a[1], t) * m).mean() for t in TAUS),
        kd_strong=w * sum(np_kd(a[2], a[3], t).mean() for t in TAUS),
        cc_weak=w * sum((np_cc(a[0], a[1], t) * n).sum() for t in TAUS),
        cc_strong=w * sum(np_cc(a[2], a[3], t).sum() for t in TAUS),
        bc_weak=w * sum((np_bc(a[0], a[1], t) * m).sum() for t in TAUS),
        bc_strong=w * sum((np_bc(a[2], a[3], t) * m).sum() for t in TAUS))
    got = MLKDLoss(mode='paper')(sw, tw, ss, ts)
    assert set(got) == set(ref)
    for k in ref:
        assert got[k].item() == pytest.approx(ref[k]), k


def test_hand_computed_two_classes():
    # one temperature (tau = 1), two identical samples: z_S = [0, 0],
    # z_T = [ln 3, 0] -> P_T = [3/4, 1/4], P_S = [1/2, 1/2]
    s = torch.zeros(2, 2, dtype=torch.float64)
    t = torch.tensor([[np.log(3), 0.]] * 2, dtype=torch.float64)
    loss = MLKDLoss(tau=1., extra_taus=(), loss_weight=1., mode='paper')
    out = loss(s, t, s, t)
    kl = 0.75 * np.log(1.5) + 0.25 * np.log(0.5)
    # both samples have confidence 3/4 = the median: both kept
    assert out['kd_weak'].item() == pytest.approx(kl)
    # batch Gram: P P^T entries 5/8 (teacher) vs 1/2 (student)
    assert out['bc_weak'].item() == pytest.approx(4 * (1 / 8)**2 / 2)
    # class Gram: P^T P = [[9/8, 3/8], [3/8, 1/8]] vs all 1/2; the class
    # mask keeps class 1 (column sums 3/2 and 1/2, median 1)
    cc = ((3 / 8 - 1 / 2)**2 + (1 / 8 - 1 / 2)**2) / 2
    assert out['cc_weak'].item() == pytest.approx(cc)


def test_ls_standardizes_only_the_instance_terms():
    sw, tw, ss, ts = views(20)
    plain = MLKDLoss()(sw, tw, ss, ts)
    ls = MLKDLoss(logit_stand='code')(sw, tw, ss, ts)
    assert ls['cc_weak'].item() == pytest.approx(plain['cc_weak'].item())
    assert ls['bc_weak'].item() == pytest.approx(plain['bc_weak'].item())
    m, _ = masks(tw.numpy())
    ref = 0.9 * m.mean() * sum(
        KDLoss(tau=t, logit_stand='code')(sw, tw).item() for t in TAUS)
    assert ls['kd_weak'].item() == pytest.approx(ref)


def test_gradients_reach_the_student_only_and_errors():
    sw, tw, ss, ts = views(30)
    sw.requires_grad_(), ss.requires_grad_(), tw.requires_grad_()
    sum(MLKDLoss(mode='paper')(sw, tw, ss, ts).values()).backward()
    assert sw.grad.abs().sum() > 0 and ss.grad.abs().sum() > 0
    assert tw.grad is None
    with pytest.raises(ValueError, match='mode'):
        MLKDLoss(mode='both')
    with pytest.raises(ValueError, match='four extra_taus'):
        MLKDLoss(extra_taus=(3., ))
    with pytest.raises(ValueError, match='same'):
        MLKDLoss()(sw, tw, ss[:3], ts)


def test_extra_view_transform():
    img = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)
    out = ExtraView([dict(type='RandomFlip', prob=1.0,
                          direction='horizontal')])(dict(img=img.copy()))
    assert np.array_equal(out['img'], img)  # the sample's own view
    assert torch.equal(out['img_strong'],
                       torch.from_numpy(img[:, ::-1].copy()).permute(2, 0, 1))


def test_distiller_two_views():
    model = MODELS.build(dict(
        type='MLKDDistiller', student=tiny_classifier(),
        teacher=tiny_classifier(), student_loss_weight=0.1,
        distill_losses=dict(loss_mlkd=dict(
            type='MLKDLoss', inputs=dict(
                preds_S='s_logits', preds_T='t_logits',
                preds_S_strong='s_logits_strong',
                preds_T_strong='t_logits_strong')))))
    g = torch.Generator().manual_seed(0)
    weak = torch.randn(4, 3, 32, 32, generator=g)
    strong = torch.randn(4, 3, 32, 32, generator=g)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    for i, sample in enumerate(samples):
        sample.set_field((strong[i] * 60 + 128).clamp(0, 255).to(
            torch.uint8), 'img_strong')
    model.eval()  # fixed BN statistics: compare with direct forwards
    tensors, losses = model.forward_tensors(weak, samples)
    strong_in = model.strong_view(weak, samples)
    assert torch.allclose(tensors['s_logits_strong'],
                          model.student(strong_in, mode='tensor'), atol=1e-5)
    assert torch.allclose(tensors['t_logits_strong'],
                          model.teacher(strong_in, mode='tensor'), atol=1e-5)
    assert torch.allclose(tensors['t_logits'],
                          model.teacher(weak, mode='tensor'), atol=1e-5)
    assert set(losses) == {'loss', 'loss_strong'}
    out = model.loss(weak, samples)
    assert {'student.loss', 'student.loss_strong', 'loss_mlkd.kd_weak',
            'loss_mlkd.kd_strong', 'loss_mlkd.cc_weak',
            'loss_mlkd.bc_weak'} == set(out)
    with pytest.raises(KeyError, match='ExtraView'):
        model.loss(weak, [DataSample().set_gt_label(0)] * 4)


def test_data_without_a_strong_view_is_refused_before_training(tmp_path):
    from mmengine.config import Config

    from mmkd.engine import KDRunner
    from test_engine._tiny_configs import tiny_config  # noqa: E402

    text = tiny_config(tmp_path / 'work', distill=True, epochs=1, n_train=8,
                       batch=4, augment=False, val=False)
    text += ("model.update(type='MLKDDistiller', distill_losses=dict("
             "loss_mlkd=dict(type='MLKDLoss', inputs=dict(preds_S='s_logits',"
             " preds_T='t_logits', preds_S_strong='s_logits_strong', "
             "preds_T_strong='t_logits_strong'))))\n")
    path = tmp_path / 'mlkd.py'
    path.write_text(text)
    runner = KDRunner.from_cfg(Config.fromfile(str(path)))
    with pytest.raises(ValueError) as err:
        runner.train()
    assert str(err.value) == (
        "MLKDDistiller needs the strong view 'img_strong' in every training "
        'sample, but train_dataloader.dataset.pipeline gives none; add '
        "dict(type='ExtraView', key='img_strong', pipeline=[...]) to that "
        "pipeline and PackInputs(algorithm_keys=['img_strong']) at its end "
        '(configs/_base_/datasets/cifar100_weak-strong_bs64.py does both).')
    assert runner.iter == 0
    # with the view, the same check passes and training runs
    text += ("train_dataloader['dataset'].update(pipeline=[dict(type="
             "'ExtraView', key='img_strong', pipeline=[]), dict(type="
             "'PackInputs', algorithm_keys=['img_strong'])])\n"
             f"work_dir = {str(tmp_path / 'work2')!r}\n")
    path.write_text(text)
    runner = KDRunner.from_cfg(Config.fromfile(str(path)))
    runner.train()
    assert runner.iter == 2
