"""tools/analysis/train_candidates.py: choosing, rescheduling, resuming."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'train_candidates.py')
spec = importlib.util.spec_from_file_location('train_candidates', TOOL)
tc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tc)
TEMPLATE = osp.join(REPO_ROOT, 'configs', 'quickstart',
                    'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')


def _student(width):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=8,
                      widths=(width, width, width)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=width,
                  loss=dict(type='CrossEntropyLoss')))


def _candidates(path, names):
    with open(path, 'w') as f:
        for i, name in enumerate(names):
            f.write(json.dumps(dict(name=name, score=float(i),
                                    config=_student(4))) + '\n')


def test_choose_names_and_samples(tmp_path):
    configs = {n: {} for n in ('111', '333', '555', '777')}
    assert tc.choose(configs) == ['111', '333', '555', '777']
    assert tc.choose(configs, names=['555']) == ['555']
    first = tc.choose(configs, sample=2, seed=3)
    assert first == tc.choose(configs, sample=2, seed=3)
    assert len(first) == 2 and set(first) <= set(configs)
    with pytest.raises(SystemExit, match=r"--names \['999'\]"):
        tc.choose(configs, names=['999'])
    with pytest.raises(SystemExit, match='choose between 1 and 4'):
        tc.choose(configs, sample=5)


def test_config_and_schedule(tmp_path):
    template = Config.fromfile(TEMPLATE)
    cfg = tc.distill_config(template, _student(4), '/x/teacher.pth')
    assert cfg.model.student.backbone.widths == (4, 4, 4)
    assert cfg.model.teacher_ckpt == '/x/teacher.pth'
    # the template itself is untouched
    assert template.model.student.backbone.widths == (8, 16, 32)
    tc.set_epochs(cfg, 3)
    assert (cfg.train_cfg.max_epochs, cfg.train_cfg.val_interval,
            cfg.param_scheduler.T_max) == (3, 3, 3)
    cfg.param_scheduler = [dict(type='MultiStepLR', milestones=[1])]
    with pytest.raises(SystemExit, match='--cfg-options'):
        tc.set_epochs(cfg, 3)
    plain = Config(dict(model=dict(type='ImageClassifier')))
    plain.filename = 'plain.py'
    with pytest.raises(SystemExit, match='not a SingleTeacherDistiller'):
        tc.distill_config(plain, _student(4))


def test_final_top1_reads_last_validation_of_newest_run(tmp_path):
    for run, values in (('20260101_000000', [10.0]),
                        ('20260102_000000', [20.0, 15.0])):
        os.makedirs(tmp_path / run / 'vis_data')
        with open(tmp_path / run / 'vis_data' / 'scalars.json', 'w') as f:
            for v in values:
                f.write(json.dumps({'loss': 1.0, 'step': 1}) + '\n')
                f.write(json.dumps({'accuracy/top1': v, 'step': 1}) + '\n')
    # the last epoch's accuracy, not the best one
    assert tc.final_top1(str(tmp_path)) == 15.0
    with pytest.raises(RuntimeError, match='did not validate'):
        tc.final_top1(str(tmp_path / '20260101_000000' / 'vis_data'))


def test_trains_records_and_resumes(tmp_path):
    _candidates(tmp_path / 'candidates.jsonl', ['a'])
    out = tmp_path / 'truth.json'
    argv = [str(tmp_path / 'candidates.jsonl'), TEMPLATE, str(out),
            '--epochs', '1', '--work-dir', str(tmp_path / 'runs'),
            '--cfg-options', 'model.teacher_ckpt=None',
            'train_dataloader.dataset.indices=64',
            'val_dataloader.dataset.indices=32']
    tc.main(argv)
    truth = json.loads(out.read_text())
    assert list(truth) == ['a'] and 0 <= truth['a'] <= 100
    times = json.loads((tmp_path / 'truth.times.json').read_text())
    assert times['a'] > 0
    # a re-run skips the finished candidate: no new run directory appears
    runs = sorted(os.listdir(tmp_path / 'runs' / 'a'))
    tc.main(argv)
    assert sorted(os.listdir(tmp_path / 'runs' / 'a')) == runs
