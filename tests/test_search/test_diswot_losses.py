"""L_Ms and L_Mr (DisWOT as a distiller) against hand loops."""
import pytest
import torch
from mmengine.config import Config

from mmkd.models.algorithms import SingleTeacherDistiller
from mmkd.registry import DISTILL_LOSSES

from conftest import REPO_ROOT


def _rownorm(m):
    return torch.stack([r / r.norm() for r in m])


def test_semantic_loss_by_hand():
    torch.manual_seed(0)
    fs = torch.randn(3, 4, 5, 5, requires_grad=True)
    ft = torch.randn(3, 4, 2, 2)
    loss = DISTILL_LOSSES.build(dict(type='DisWOTSemanticLoss',
                                     loss_weight=2.0))
    expected = 0.0
    for n in range(3):
        a_s, a_t = fs[n].reshape(4, -1), ft[n].reshape(4, -1)
        e_s, e_t = _rownorm(a_s @ a_s.t()), _rownorm(a_t @ a_t.t())
        expected += float(((e_s - e_t)**2).sum().detach())
    value = loss(fs, ft)
    assert float(value.detach()) == pytest.approx(2.0 * expected / (4 * 3),
                                                  rel=1e-5)
    value.backward()
    assert fs.grad is not None
    with pytest.raises(ValueError, match='connector'):
        loss(torch.randn(3, 8, 2, 2), ft)


def test_relation_loss_by_hand_equals_sp():
    torch.manual_seed(0)
    fs, ft = torch.randn(4, 3, 2, 2), torch.randn(4, 6, 3, 3)
    loss = DISTILL_LOSSES.build(dict(type='DisWOTRelationLoss'))
    a_s, a_t = fs.reshape(4, -1), ft.reshape(4, -1)
    diff = _rownorm(a_s @ a_s.t()) - _rownorm(a_t @ a_t.t())
    assert float(loss(fs, ft)) == pytest.approx(float((diff**2).sum()) / 16,
                                                rel=1e-5)
    sp = DISTILL_LOSSES.build(dict(type='SPLoss'))
    assert float(loss(fs, ft)) == pytest.approx(float(sp(fs, ft)), rel=1e-6)


def test_diswot_plus_config_builds_with_every_loss():
    cfg = Config.fromfile(
        f'{REPO_ROOT}/configs/diswot/'
        'diswot-plus_resnet56_resnet20_1xb64_cifar100.py')
    cfg.model.pop('type')
    cfg.model.teacher_ckpt = None
    model = SingleTeacherDistiller(**cfg.model)
    assert set(model.distill_losses) == {'loss_kd', 'loss_ms', 'loss_mr'}
