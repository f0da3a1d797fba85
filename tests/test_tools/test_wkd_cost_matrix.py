"""tools/analysis/wkd_cost_matrix.py end to end on the bundled CIFAR-10
subset with a random-init ResNet-8 teacher, checked against an independent
computation of the official procedure, and its refusals."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmkd.datasets import CIFAR10Mini
from mmkd.models.algorithms import build_classifier
from mmkd.models.losses import WKDLogitLoss

from conftest import REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'wkd_cost_matrix.py')
CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                  'resnet20_1xb64_cifar10mini.py')
TINY = ['--cfg-options', 'model.backbone.depth=8']  # ResNet-8, same head


def load_tool():
    spec = importlib.util.spec_from_file_location('wkd_cost_matrix', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    """A random-init ResNet-8 (10 classes) and its saved checkpoint."""
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.depth = 8
    cfg.model.data_preprocessor = cfg.data_preprocessor
    torch.manual_seed(0)
    model = build_classifier(cfg.model, 'model').eval()
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return model, path


def np_kernel_cka(x, y):
    """Linear CKA from centred Gram matrices (Kornblith et al. 2019)."""
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n
    kx, ky = h @ x @ x.T @ h, h @ y @ y.T @ h
    return (kx * ky).sum() / np.sqrt((kx * kx).sum() * (ky * ky).sum())


def test_tool_end_to_end(teacher, tmp_path):
    model, ckpt = teacher
    out = str(tmp_path / 'sub' / 'cost.pth')
    done = load_tool().main([CONFIG, ckpt, '--out', out,
                             '--samples-per-class', '3', *TINY])
    # 3 images x 8 x 8 positions per class, 64 channels
    assert done['features'] == (10, 3 * 64, 64)
    cost = torch.load(out, weights_only=True)
    assert cost.shape == (10, 10) and cost.dtype == torch.float32
    assert torch.equal(cost, done['cost'])

    # independently: the first 3 training images of every class (the file
    # is sorted by class, 500 each), no augmentation, the official
    # reshape of the last stage's map [m, c, h, w] -> [m * h * w, c]
    data = CIFAR10Mini(split='train', pipeline=[dict(type='PackInputs')])
    feats = []
    with torch.no_grad():
        for k in range(10):
            batch = [data[500 * k + i] for i in range(3)]
            assert all(b['data_samples'].gt_label.item() == k for b in batch)
            x = model.data_preprocessor(
                dict(inputs=[b['inputs'] for b in batch],
                     data_samples=[b['data_samples'] for b in batch]),
                False)['inputs']
            fmap = model.backbone(x)[-1]
            m, c, h, w = fmap.shape
            feats.append(fmap.view(m, c, -1).transpose(1, 2).reshape(-1, c)
                         .double().numpy())
    for i in range(10):
        for j in range(10):
            want = 0. if i == j else 1 - np_kernel_cka(feats[i], feats[j])
            assert cost[i, j].item() == pytest.approx(want, abs=1e-5)
    names = CIFAR10Mini.METAINFO['classes']
    i, j = divmod(int((cost + 2 * torch.eye(10)).argmin()), 10)
    assert set(done['summary']['closest']) == {names[i], names[j]}

    # the file is WKDLogitLoss's cost_matrix as is
    loss = WKDLogitLoss(out, tau=4., loss_weight=1.)
    value = loss(torch.randn(2, 10), torch.randn(2, 10), torch.tensor([1, 7]))
    assert torch.isfinite(value)

    # pool and logits: one row per image
    for feature, dim in (('pool', 64), ('logits', 10)):
        done = load_tool().main([CONFIG, ckpt, '--out', out, '--force',
                                 '--samples-per-class', '2', '--feature',
                                 feature, *TINY])
        assert done['features'] == (10, 2, dim)


def test_tool_refuses_bad_input(teacher, tmp_path):
    tool = load_tool()
    _, ckpt = teacher
    taken = tmp_path / 'taken.pth'
    taken.write_bytes(b'')
    with pytest.raises(SystemExit, match='exists; pass --force'):
        tool.main([CONFIG, ckpt, '--out', str(taken), *TINY])
    out = str(tmp_path / 'cost.pth')
    with pytest.raises(SystemExit, match='does not exist; give the teacher'):
        tool.main([CONFIG, str(tmp_path / 'none.pth'), '--out', out])
    distiller = osp.join(REPO_ROOT, 'configs', 'quickstart',
                         'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
    with pytest.raises(SystemExit, match='model has no classifier head'):
        tool.main([distiller, ckpt, '--out', out])
    with pytest.raises(SystemExit, match=r'class 0 \(airplane\) has 500 '
                       'images, fewer than the 501 asked'):
        tool.main([CONFIG, ckpt, '--out', out, '--samples-per-class', '501',
                   *TINY])
    # --split val reads the 300 test images per class
    with pytest.raises(SystemExit, match=r'class 0 \(airplane\) has 300 '
                       'images, fewer than the 301 asked'):
        tool.main([CONFIG, ckpt, '--out', out, '--split', 'val',
                   '--samples-per-class', '301', *TINY])
    assert not osp.exists(out)
