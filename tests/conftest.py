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
