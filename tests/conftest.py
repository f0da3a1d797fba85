import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(autouse=True, scope='session')
def _mmkd_session():
    """One thread (tiny models run faster so on a busy 2-core machine) and
    the mmkd registry scope, as in every mmkd config."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    init_default_scope('mmkd')
    yield
    torch.set_num_threads(threads)


def tiny_classifier(depth=8, widths=(8, 16, 32), num_classes=10,
                    norm_cfg=None):
    """An mmpretrain ImageClassifier around a tiny CIFAR ResNet."""
    backbone = dict(type='CIFARResNet', depth=depth, widths=widths)
    if norm_cfg is not None:
        backbone['norm_cfg'] = norm_cfg
    return dict(
        type='ImageClassifier',
        backbone=backbone,
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=widths[-1], loss=dict(type='CrossEntropyLoss')))


def free_port():
    """A free TCP port on localhost (for a torchrun master)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_rank_script(tmp_path, name, nproc, config_text, rank_script):
    """Write ``config_text`` to ``tmp_path/name.py`` and run ``rank_script``
    on it: under torchrun with ``nproc`` CPU processes (launcher
    ``pytorch``), or as one plain process. The script saves each rank's
    result to ``<work_dir>/rank<r>.pth``, loaded and returned here;
    ``work_dir`` is ``tmp_path/name``."""
    import os
    import subprocess
    import sys
    work_dir = tmp_path / name
    cfg = tmp_path / f'{name}.py'
    cfg.write_text(config_text)
    script = tmp_path / 'rank.py'
    script.write_text(rank_script)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    env.pop('CUDA_VISIBLE_DEVICES', None)
    if nproc > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1',
               f'--master_port={free_port()}', str(script), str(cfg),
               'pytorch']
    else:
        cmd = [sys.executable, str(script), str(cfg), 'none']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [torch.load(work_dir / f'rank{r}.pth', weights_only=False)
            for r in range(nproc)]
