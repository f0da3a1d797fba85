"""CTKD (Li et al., AAAI 2023): learnable temperature through a GRL."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmkd.models.losses import (DKDLoss, GlobalTemperature,
                                InstanceTemperature, KDLoss)
from mmkd.models.losses.ctkd import cosine_reversal_weight, grad_reverse


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def test_grl_is_identity_forward_and_flips_the_gradient():
    x = torch.tensor([1., -2., 3.], requires_grad=True)
    y = grad_reverse(x, 0.5)
    assert torch.equal(y, x)
    (y * torch.tensor([1., 2., 3.])).sum().backward()
    assert torch.equal(x.grad, torch.tensor([-0.5, -1., -1.5]))
    x.grad = None
    grad_reverse(x, 0.).sum().backward()
    assert torch.equal(x.grad, torch.zeros(3))


def test_cosine_curriculum_by_hand():
    # lambda(e) = (1 - cos(pi e / 10)) / 2 over 10 epochs, from 1
    assert cosine_reversal_weight(0, 10) == 0.
    assert cosine_reversal_weight(1, 10) == pytest.approx(
        (1 - 0.9510565163) / 2)  # 0.02447
    assert cosine_reversal_weight(5, 10) == pytest.approx(0.5)
    assert cosine_reversal_weight(10, 10) == pytest.approx(1.)
    assert cosine_reversal_weight(30, 10) == pytest.approx(1.)
    # the official CosineDecay(max=0, min=-1, loops=10) is -lambda
    assert cosine_reversal_weight(3, 10) == pytest.approx(
        -((math.cos(3 * math.pi / 10) + 1) * 0.5 * (0 - (-1)) + (-1)))
    assert cosine_reversal_weight(5, 10, start=0.2, end=0.6) == \
        pytest.approx(0.4)


def test_global_temperature_value_and_epochs():
    temp = GlobalTemperature()
    temp.set_epoch(5)
    assert temp.reversal_weight == pytest.approx(0.5)
    tau = temp(torch.zeros(2, 3), torch.zeros(2, 3))
    # 1 + 20 sigmoid(1)
    assert tau.shape == (1, )
    assert tau.item() == pytest.approx(1 + 20 / (1 + math.exp(-1)), rel=1e-6)


def test_temperature_gets_the_reversed_gradient():
    s, t = rand(4, 5, seed=1), rand(4, 5, seed=2)
    s.requires_grad_()
    loss = KDLoss(loss_weight=0.9,
                  temperature=dict(type='GlobalTemperature')).double()
    raw = loss.temperature.raw
    loss.temperature.set_epoch(5)  # lambda = 0.5
    loss(s, t).backward()
    # the plain gradient of the same loss w.r.t. the raw parameter
    r = raw.detach().double().clone().requires_grad_()
    tau = 1 + 20 * torch.sigmoid(r)
    kl = F.kl_div(F.log_softmax(s.detach() / tau, 1), F.softmax(t / tau, 1),
                  reduction='batchmean')
    (0.9 * tau[0]**2 * kl).backward()
    assert r.grad.abs().item() > 1e-6
    # opposite sign: the temperature ascends the loss, at half the step
    assert raw.grad.item() * r.grad.item() < 0
    assert raw.grad.item() == pytest.approx(-0.5 * r.grad.item(), rel=1e-9)
    # the student still descends the loss (no reversal for it)
    ref = s.detach().clone().requires_grad_()
    KDLoss(tau=tau.item(), loss_weight=0.9)(ref, t).backward()
    assert torch.allclose(s.grad, ref.grad)


def test_kd_and_dkd_with_a_temperature_equal_the_fixed_tau():
    s, t = rand(3, 6, seed=3), rand(3, 6, seed=4)
    y = torch.tensor([0, 2, 5])
    temp = GlobalTemperature(init=0.)  # tau = 1 + 20 * 0.5 = 11
    temp.set_epoch(1)
    for cls, args in ((KDLoss, (s, t)), (DKDLoss, (s, t, y))):
        learned = cls(temperature=temp, logit_stand='code')(*args)
        fixed = cls(tau=11., logit_stand='code')(*args)
        assert learned.item() == pytest.approx(fixed.item(), rel=1e-6)


def test_instance_temperature_per_sample():
    torch.manual_seed(0)
    temp = InstanceTemperature(num_classes=4, hidden=8).double()
    temp.set_epoch(10)
    s, t = rand(3, 4, seed=5).requires_grad_(), rand(3, 4, seed=6)
    tau = temp(s, t)
    assert tau.shape == (3, 1)
    assert ((tau > 1) & (tau < 21)).all()
    # KD with per-sample tau: mean_i tau_i^2 KL_i (the official form)
    got = KDLoss(temperature=temp)(s, t)
    ref = sum(KDLoss(tau=tau[i].item())(s[i:i + 1], t[i:i + 1])
              for i in range(3)) / 3
    assert got.item() == pytest.approx(ref.item(), rel=1e-6)
    got_dkd = DKDLoss(temperature=temp)(s, t, torch.tensor([0, 1, 3]))
    ref_dkd = sum(DKDLoss(tau=tau[i].item())(s[i:i + 1], t[i:i + 1],
                                             torch.tensor([i if i < 2 else 3]))
                  for i in range(3)) / 3
    assert got_dkd.item() == pytest.approx(ref_dkd.item(), rel=1e-6)
    # the MLP gets the reversed gradient, the student none through it
    got.backward()
    assert all(p.grad is not None for p in temp.parameters())
    s2 = s.detach().clone().requires_grad_()
    KDLoss(temperature=temp)(s2, t).backward()
    ref_s = s.detach().clone().requires_grad_()
    tau_fixed = tau.detach()
    kl = (F.softmax(t / tau_fixed, 1) * (F.log_softmax(t / tau_fixed, 1) -
          F.log_softmax(ref_s / tau_fixed, 1))).sum(1, keepdim=True)
    (tau_fixed**2 * kl).mean().backward()
    assert torch.allclose(s2.grad, ref_s.grad)


def test_errors():
    temp = GlobalTemperature()
    temp.train()
    with pytest.raises(RuntimeError, match='LossEpochHook'):
        temp(torch.zeros(1, 2), torch.zeros(1, 2))
    temp.eval()  # the build-time dry run: lambda_start
    assert temp(torch.zeros(1, 2), torch.zeros(1, 2)).shape == (1, )
    with pytest.raises(ValueError, match='num_classes'):
        inst = InstanceTemperature(num_classes=3)
        inst.set_epoch(1)
        inst(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(TypeError, match='temperature must be'):
        KDLoss(temperature='global')
    with pytest.raises(ValueError, match='t_start'):
        GlobalTemperature(t_start=0)


def test_trains_in_a_runner_with_the_default_hooks(tmp_path):
    # LossEpochHook (default runtime) sets lambda(1); the student's SGD
    # moves the temperature parameter
    from mmengine.config import Config

    from mmkd.engine import KDRunner
    from test_engine._tiny_configs import tiny_config  # noqa: E402

    text = tiny_config(tmp_path / 'work', distill=True, epochs=1, n_train=16,
                       batch=8, val=False)
    text += ("model.update(distill_losses=dict(loss_kd=dict(type='KDLoss', "
             "loss_weight=0.9, temperature=dict(type='GlobalTemperature'), "
             "inputs=dict(preds_S='s_logits', preds_T='t_logits'))))\n")
    path = tmp_path / 'ctkd.py'
    path.write_text(text)
    runner = KDRunner.from_cfg(Config.fromfile(str(path)))
    runner.train()
    temp = runner.model.distill_losses.loss_kd.temperature
    assert temp.reversal_weight == pytest.approx((1 - math.cos(math.pi / 10))
                                                 / 2)
    assert temp.raw.item() != 1.0
    params = {id(p) for g in runner.optim_wrapper.param_groups
              for p in g['params']}
    assert id(temp.raw) in params


def test_a_temperature_outside_the_optimizer_is_refused(tmp_path):
    # a constructor that optimises the student only: the temperature would
    # stay at its initial value; refused before the first iteration
    from mmengine.config import Config
    from mmengine.optim import DefaultOptimWrapperConstructor

    from mmkd.engine import KDRunner
    from mmkd.registry import OPTIM_WRAPPER_CONSTRUCTORS
    from test_engine._tiny_configs import tiny_config  # noqa: E402

    class _StudentOnly(DefaultOptimWrapperConstructor):

        def __call__(self, model):
            return super().__call__(model.student)

    OPTIM_WRAPPER_CONSTRUCTORS.register_module(
        name='_StudentOnly', module=_StudentOnly, force=True)
    try:
        text = tiny_config(tmp_path / 'work', distill=True, epochs=1,
                           n_train=16, batch=8, val=False)
        text += (
            "model.update(distill_losses=dict(loss_kd=dict(type='KDLoss', "
            "loss_weight=0.9, temperature=dict(type='GlobalTemperature'), "
            "inputs=dict(preds_S='s_logits', preds_T='t_logits'))))\n"
            "optim_wrapper.update(constructor='_StudentOnly')\n")
        path = tmp_path / 'ctkd.py'
        path.write_text(text)
        runner = KDRunner.from_cfg(Config.fromfile(str(path)))
        with pytest.raises(ValueError) as err:
            runner.train()
        assert str(err.value) == (
            'model.distill_losses.loss_kd.temperature (GlobalTemperature) is '
            "learnable, but its parameter(s) ['raw'] are in no param group "
            'of optim_wrapper, so it would never change; let the optimizer '
            "take them (mmengine's default constructor takes every model "
            'parameter) or use a fixed tau instead.')
        assert runner.iter == 0
    finally:
        OPTIM_WRAPPER_CONSTRUCTORS._module_dict.pop('_StudentOnly', None)
