"""projects/simkd: an out-of-tree distiller on the public API, end to end."""
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

import projects.simkd.simkd  # noqa: F401  registers SimKDDistiller
from mmkd.registry import MODELS

from conftest import REPO_ROOT
from test_tools.test_train_tool import run_tool

CONFIG = 'projects/simkd/configs/simkd_resnet20_resnet8-w8_1xb64_cifar10mini.py'
EXPORT = 'projects/simkd/configs/simkd_student_export.py'


def build(cfg_model):
    cfg = dict(cfg_model, teacher_ckpt=None)
    with DefaultScope.overwrite_default_scope('mmkd'):
        return MODELS.build(cfg)


def test_simkd_tensors_loss_and_predict_path_by_hand():
    torch.manual_seed(0)
    model = build(Config.fromfile(f'{REPO_ROOT}/{CONFIG}').model)
    model.eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        tensors, own = model.forward_tensors(x)
        losses, _ = model.distill_step(x)
        proj = model.projector.transfer(model.student.backbone(x)[-1])
        t_feat = model.teacher.backbone(x)[-1]
        fc = model.teacher.head.fc
        logits = fc(proj.mean(dim=(2, 3)))
    assert own == {}  # the student's own head and CE are not used
    assert torch.allclose(tensors['s_proj'], proj)
    assert torch.allclose(tensors['t_feat'], t_feat)
    assert torch.allclose(tensors['s_logits'], logits, atol=1e-6)
    assert torch.allclose(losses['loss_simkd'], F.mse_loss(proj, t_feat))
    with torch.no_grad():
        scores = torch.stack([s.pred_score for s in model.predict(x)])
        assert torch.allclose(scores, logits.softmax(1), atol=1e-6)
        assert torch.allclose(model(x, mode='tensor'), logits, atol=1e-6)


def test_simkd_trains_exports_and_the_export_predicts_like_it(tmp_path):
    work = tmp_path / 'w'
    proc = run_tool('tools/train.py', CONFIG, '--work-dir', str(work),
                    '--cfg-options', 'model.teacher_ckpt=None',
                    'train_dataloader.dataset.indices=16',
                    'train_dataloader.batch_size=8',
                    'val_dataloader.dataset.indices=16',
                    'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                    'default_hooks.logger.interval=1')
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = next(work.glob('*/*.log')).read_text()
    assert 'loss_simkd' in log and 'accuracy/top1' in log
    ckpt = work / 'epoch_1.pth'
    out = tmp_path / 'student.pth'
    proc = run_tool('tools/model_converters/export_student.py', str(ckpt),
                    str(out), '--config', CONFIG)
    assert proc.returncode == 0, proc.stderr[-3000:]

    distiller = build(Config.fromfile(f'{REPO_ROOT}/{CONFIG}').model)
    load_checkpoint(distiller, str(ckpt), strict=True)
    with DefaultScope.overwrite_default_scope('mmkd'):
        exported = MODELS.build(Config.fromfile(f'{REPO_ROOT}/{EXPORT}').model)
    # an mmpretrain ImageClassifier, loaded strictly
    assert type(exported).__name__ == 'ImageClassifier'
    load_checkpoint(exported, str(out), strict=True)
    distiller.eval()
    exported.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(distiller(x, mode='tensor'),
                              exported(x, mode='tensor'), atol=1e-5)
    # and the test tool evaluates the exported model as a plain classifier
    proc = run_tool('tools/test.py', EXPORT, str(out), '--cfg-options',
                    'test_dataloader.dataset.indices=16',
                    '--work-dir', str(tmp_path / 't'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'accuracy/top1' in proc.stdout + proc.stderr
