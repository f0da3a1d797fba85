"""An epoch-dependent loss without LossEpochHook is refused before
training (DKD's warm-up would silently be off, CTKD's curriculum stuck)."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmkd.engine import KDRunner

from conftest import REPO_ROOT

KD = osp.join(REPO_ROOT, 'configs', 'quickstart',
              'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')


def test_an_epoch_dependent_loss_needs_the_epoch_hook(tmp_path):
    cfg = Config.fromfile(KD)
    cfg.work_dir = str(tmp_path)
    cfg.model.teacher_ckpt = None
    cfg.model.distill_losses = dict(loss_dkd=dict(
        type='DKDLoss', alpha=1.0, beta=2.0, tau=4, warmup_epochs=20,
        inputs=dict(preds_S='s_logits', preds_T='t_logits',
                    gt_labels='gt_labels')))
    cfg.custom_hooks = [h for h in cfg.custom_hooks
                        if h['type'] != 'LossEpochHook']
    runner = KDRunner.from_cfg(cfg)
    with pytest.raises(RuntimeError, match=r"DKDLoss depend\(s\) on the "
                       r"epoch, but no LossEpochHook is registered"):
        runner.train()
    assert not list(tmp_path.glob('epoch_*.pth'))
