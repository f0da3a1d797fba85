"""DOT (Zhao et al., ICCV 2023) as an mmengine optim wrapper."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmkd.engine import DOTOptimWrapper
from mmkd.engine.dot import split_losses
from mmkd.registry import MODELS

from conftest import tiny_classifier  # noqa: E402


@pytest.fixture(autouse=True, scope='module')
def mmkd_scope():
    init_default_scope('mmkd')


def sgd(params, **kwargs):
    cfg = dict(lr=0.1, momentum=0.9, weight_decay=0.)
    cfg.update(kwargs)
    return torch.optim.SGD(params, **cfg)


def test_split_losses():
    losses = {'student.loss': 1, 'student.accuracy': 2, 'loss_kd': 3,
              'loss_crd.nce': 4, 'extra': 5}
    assert split_losses(losses) == (['student.loss'],
                                    ['loss_kd', 'loss_crd.nce'])


def test_two_steps_by_hand():
    # theta: task loss 1 * theta, distill loss 2 * theta, weight decay 0.1;
    # phi: distill loss 3 * phi only (a connector): momentum beta, decay
    theta = nn.Parameter(torch.tensor([1.], dtype=torch.float64))
    phi = nn.Parameter(torch.tensor([1.], dtype=torch.float64))
    wrapper = DOTOptimWrapper(sgd([theta, phi], weight_decay=0.1),
                              delta=0.05)
    got = []
    for _ in range(2):
        distill = 2 * theta.sum() + 3 * phi.sum()
        wrapper.update_from_losses({'student.loss': theta.sum(),
                                    'loss_kd': distill})
        got.append((theta.item(), phi.item()))
    # step 1: v_t = 1 + 0.1 * 1 = 1.1, v_d = 2: theta = 1 - 0.1 * 3.1
    #         phi: v = 3 + 0.1 = 3.1: phi = 1 - 0.31
    assert got[0] == pytest.approx((0.69, 0.69))
    # step 2: v_t = 0.85 * 1.1 + (1 + 0.069) = 2.004,
    #         v_d = 0.95 * 2 + 2 = 3.9: theta = 0.69 - 0.1 * 5.904
    #         phi: v = 0.9 * 3.1 + (3 + 0.069) = 5.859: phi = 0.69 - 0.5859
    assert got[1] == pytest.approx((0.0996, 0.1041))
    # plain SGD momentum would give theta = 0.69 - 0.1 * (0.9 * 3.1 + 3.069)
    assert got[1][0] != pytest.approx(0.69 - 0.1 * (0.9 * 3.1 + 3.069))
    state = wrapper.optimizer.state[theta]
    assert state['momentum_buffer'].item() == pytest.approx(2.004)
    assert state['dot_distill_buffer'].item() == pytest.approx(3.9)


def toy_losses(model, x, y):
    feats = model[0](x)
    out = model[1](feats)
    task = nn.functional.cross_entropy(out, y)
    distill = (out - out.detach().flip(0)).pow(2).mean() + \
        model[2](feats).pow(2).mean()  # model[2]: a distill-only part
    return task, distill


def test_delta_zero_equals_sgd_momentum():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Linear(4, 3),
                          nn.Linear(4, 2)).double()
    ref = copy.deepcopy(model)
    kw = dict(lr=0.05, momentum=0.9, weight_decay=5e-4, dampening=0.1)
    dot = DOTOptimWrapper(sgd(model.parameters(), **kw), delta=0.)
    plain = OptimWrapper(sgd(ref.parameters(), **kw))
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        x = torch.randn(6, 5, generator=g, dtype=torch.float64)
        y = torch.randint(0, 3, (6, ), generator=g)
        task, distill = toy_losses(model, x, y)
        dot.update_from_losses({'student.loss': task, 'loss_kd': distill})
        task, distill = toy_losses(ref, x, y)
        plain.update_params(task + distill)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-12)
    # and delta > 0 moves away from it
    dot2 = DOTOptimWrapper(sgd(model.parameters(), **kw), delta=0.05)
    task, distill = toy_losses(model, x, y)
    dot2.update_from_losses({'student.loss': task, 'loss_kd': distill})
    dot2.update_from_losses(dict(zip(('student.loss', 'loss_kd'),
                                     toy_losses(model, x, y))))
    plain.update_params(sum(toy_losses(ref, x, y)))
    plain.update_params(sum(toy_losses(ref, x, y)))
    assert not torch.allclose(model[0].weight, ref[0].weight, atol=1e-6)


def test_errors():
    p = nn.Parameter(torch.ones(1))
    with pytest.raises(TypeError, match="optimizer.type='SGD'"):
        DOTOptimWrapper(torch.optim.Adam([p]))
    with pytest.raises(ValueError, match='choose delta'):
        DOTOptimWrapper(sgd([p], momentum=0.9), delta=0.2)
    with pytest.raises(ValueError, match='choose delta'):
        DOTOptimWrapper(sgd([p], momentum=0.), delta=0.05)
    with pytest.raises(ValueError, match='nesterov'):
        DOTOptimWrapper(sgd([p], nesterov=True))
    with pytest.raises(ValueError, match='accumulative_counts'):
        DOTOptimWrapper(sgd([p]), accumulative_counts=2)
    with pytest.raises(ValueError, match='clip_grad'):
        DOTOptimWrapper(sgd([p]), clip_grad=dict(max_norm=1))
    wrapper = DOTOptimWrapper(sgd([p]))
    with pytest.raises(ValueError, match='configure a distill loss'):
        wrapper.update_from_losses({'student.loss': p.sum()})
    with pytest.raises(TypeError, match='loss dict'):
        wrapper.update_params(p.sum())


KD = dict(type='KDLoss', tau=4, loss_weight=0.9,
          inputs=dict(preds_S='s_logits', preds_T='t_logits'))
DOT_CFG = dict(type='DOTOptimWrapper', delta=0.075,
               constructor='DOTOptimWrapperConstructor',
               optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                              weight_decay=5e-4))


def distiller(**kwargs):
    cfg = dict(type='SingleTeacherDistiller', student=tiny_classifier(),
               teacher=tiny_classifier(), student_loss_weight=0.1,
               distill_losses=dict(loss_kd=KD))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def batch(n=4):
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 3, 32, 32, generator=g)
    return dict(inputs=list(inputs), data_samples=[
        DataSample().set_gt_label(i % 10) for i in range(n)])


def test_distiller_train_step_and_constructor():
    torch.manual_seed(0)
    model = distiller()
    wrapper = build_optim_wrapper(model, DOT_CFG)
    assert isinstance(wrapper, DOTOptimWrapper)
    teacher = copy.deepcopy(model.teacher.state_dict())
    before = model.student.head.fc.weight.clone()
    log = model.train_step(batch(), wrapper)
    assert set(log) >= {'loss', 'student.loss', 'loss_kd'}
    assert not torch.equal(before, model.student.head.fc.weight)
    state = wrapper.optimizer.state[model.student.head.fc.weight]
    assert {'momentum_buffer', 'dot_distill_buffer'} <= set(state)
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher[k]), k
    # the distiller with delta = 0 follows mmengine's plain SGD step
    a, b = distiller(), distiller()
    b.load_state_dict(a.state_dict())
    cfg = dict(DOT_CFG, delta=0.)
    wa = build_optim_wrapper(a, cfg)
    wb = build_optim_wrapper(b, dict(optimizer=DOT_CFG['optimizer']))
    for _ in range(2):
        a.train_step(batch(), wa)
        b.train_step(batch(), wb)
    for (k, p), q in zip(a.student.named_parameters(),
                         b.student.parameters()):
        assert torch.allclose(p, q, atol=1e-6), k


def test_constructor_needs_a_distill_loss():
    with pytest.raises(ValueError, match='at least one distill loss'):
        build_optim_wrapper(distiller(distill_losses={}), DOT_CFG)
    with pytest.raises(ValueError, match='at least one distill loss'):
        build_optim_wrapper(MODELS.build(tiny_classifier()), DOT_CFG)
