"""A search's work dir cannot be silently stale: everything that changes a
score is fingerprinted and a changed re-run is refused naming the change;
torn records are repaired; a failed start does not block the corrected
re-run; a train_template is found from the config that sets it."""
import json
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config

from mmkd.engine import SearchRunner
from mmkd.engine.search_loop import SearchLoop
from mmkd.search.records import fingerprint_changes, read_records
from mmkd.utils.config_paths import resolve_config_path, setting_file

from conftest import REPO_ROOT, tiny_classifier
from test_search.test_search_loop import _results, write_search_config


def _run(cfg_path, work_dir, **changes):
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(changes)
    SearchRunner.from_cfg(cfg).train()


@pytest.fixture(scope='module')
def scored(tmp_path_factory):
    """A finished search (random teacher) and a teacher checkpoint."""
    tmp = tmp_path_factory.mktemp('scored')
    torch.manual_seed(0)
    from mmkd.models.algorithms import build_classifier
    teacher = build_classifier(tiny_classifier(widths=(4, 4, 8)), 'teacher')
    torch.save(dict(state_dict=teacher.state_dict()), tmp / 'teacher.pth')
    path = write_search_config(tmp / 'search.py', tmp / 'work')
    _run(path, tmp / 'work')
    return path, tmp


def _other_teacher_weights(tmp):
    """The same path, other content."""
    state = torch.load(tmp / 'teacher.pth')
    state['state_dict'] = {
        k: v + 1 if v.is_floating_point() else v
        for k, v in state['state_dict'].items()
    }
    torch.save(state, tmp / 'teacher.pth')


CHANGES = {
    'dataset indices': (
        {'train_dataloader.dataset.indices': list(range(1, 5000, 313))},
        'data.dataset.indices'),
    'dataset split': ({'train_dataloader.dataset.split': 'test',
                       'train_dataloader.dataset.indices': list(range(16))},
                      'data.dataset.split: "train" -> "test"'),
    'pipeline': ({'train_dataloader.dataset.pipeline': [
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PackInputs')]}, 'data.pipeline'),
    'preprocessor std': (
        {'data_preprocessor.std': [60.0, 50.847, 51.255]},
        'data.data_preprocessor.std: [51.5865, 50.847, 51.255] -> [60.0'),
    'num_classes': ({'model.head.num_classes': 9},
                    'data.num_classes: 10 -> 9'),
    'proxy argument': ({'train_cfg.proxy.use_grad': False},
                       'settings.proxy.use_grad: not recorded -> false'),
    'teacher weights': (None, 'teacher.sha256: sha256 '),
}


@pytest.mark.parametrize('what', list(CHANGES))
def test_a_changed_rerun_is_refused_naming_the_change(scored, tmp_path,
                                                      what, monkeypatch):
    path, tmp = scored
    work = tmp_path / 'work'
    shutil.copytree(tmp / 'work', work)
    changes, expected = CHANGES[what]
    if changes is None:  # a search of its own, then new weights, same path
        shutil.copy(tmp / 'teacher.pth', tmp_path / 'teacher.pth')
        cfg = Config.fromfile(path)
        cfg.train_cfg.teacher_ckpt = str(tmp_path / 'teacher.pth')
        path = str(tmp_path / 'search.py')
        cfg.dump(path)
        shutil.rmtree(work)
        _run(path, work)
        _other_teacher_weights(tmp_path)
        changes = {}
    scored_names = []
    monkeypatch.setattr(SearchLoop, 'score_candidate',
                        lambda self, n: scored_names.append(n))
    with pytest.raises(RuntimeError) as err:
        _run(path, work, **changes)
    message = str(err.value)
    assert 'holds a search scored with other settings' in message
    assert expected in message, message
    assert '--restart' in message and not scored_names


def test_an_unchanged_rerun_resumes_without_rescoring(scored, tmp_path,
                                                      monkeypatch):
    path, tmp = scored
    shutil.copytree(tmp / 'work', tmp_path / 'work')
    monkeypatch.setattr(SearchLoop, 'score_candidate',
                        lambda self, n: pytest.fail(f'rescored {n}'))
    _run(path, tmp_path / 'work')
    assert _results(tmp_path / 'work') == _results(tmp / 'work')


def test_a_torn_last_record_is_dropped_and_rescored(scored, tmp_path):
    path, tmp = scored
    work = tmp_path / 'work'
    shutil.copytree(tmp / 'work', work)
    lines = (work / 'candidates.jsonl').read_text().splitlines(True)
    last = json.loads(lines[-1])
    # a kill in the middle of writing the last record
    (work / 'candidates.jsonl').write_text(''.join(lines[:-1]) +
                                           lines[-1][:len(lines[-1]) // 2])
    assert last['name'] not in read_records(str(work / 'candidates.jsonl'),
                                            repair=False)
    _run(path, work)
    text = (work / 'candidates.jsonl').read_text()
    assert all(json.loads(line) for line in text.splitlines())
    assert _results(work) == _results(tmp / 'work')


def test_an_impossible_budget_does_not_block_the_corrected_rerun(tmp_path):
    path = write_search_config(tmp_path / 'c.py', tmp_path / 'w',
                               constraints=dict(max_params=10))
    with pytest.raises(RuntimeError, match='candidate met the constraints'):
        _run(path, tmp_path / 'w')
    assert osp.isfile(tmp_path / 'w' / 'search_meta.json')
    _run(path, tmp_path / 'w', **{'train_cfg.constraints.max_params': 4500})
    assert read_records(str(tmp_path / 'w' / 'candidates.jsonl'))


def test_fingerprint_changes_name_leaf_fields():
    old = dict(a=dict(b=1, c=[1, 2]), d='x', p=[dict(t='A'), dict(t='B')])
    new = dict(a=dict(b=2, c=[1, 3]), d='x', p=[dict(t='A'), dict(t='C')],
               e=True)
    assert fingerprint_changes(old, new) == [
        'a.b: 1 -> 2', 'a.c: [1, 2] -> [1, 3]', 'p[1].t: "B" -> "C"',
        'e: not recorded -> true']
    many = {str(i): i for i in range(6)}
    assert fingerprint_changes(many, {})[-1] == '... and 2 more'


def test_train_template_is_relative_to_the_config_that_sets_it(tmp_path):
    search = osp.join(REPO_ROOT, 'configs', 'diswot',
                      'diswot_resnet20_s1-evolution_cifar10mini.py')
    keys = ('train_cfg', 'train_template')
    template = osp.join(REPO_ROOT, 'configs', 'quickstart',
                        'kd_resnet20_resnet8-w8_1xb64_cifar10mini.py')
    # a child in another folder that inherits the value
    child = tmp_path / 'elsewhere' / 'child.py'
    child.parent.mkdir()
    child.write_text(f'_base_ = [{search!r}]\n'
                     'train_cfg = dict(seed=3)\n')
    assert setting_file(str(child), keys) == search
    cfg = Config.fromfile(str(child))
    assert resolve_config_path(cfg.train_cfg.train_template, str(child),
                               keys) == template
    cfg.work_dir = str(tmp_path / 'w')
    runner = SearchRunner.from_cfg(cfg)
    assert runner.build_train_loop(runner._train_loop).train_template == \
        template
    # a child that sets its own: relative to the child
    shutil.copy(template, tmp_path / 'elsewhere' / 'mine.py')
    child.write_text(f'_base_ = [{search!r}]\n'
                     "train_cfg = dict(train_template='./mine.py')\n")
    assert resolve_config_path('./mine.py', str(child), keys) == str(
        tmp_path / 'elsewhere' / 'mine.py')
    # a wrong one names the path tried and the rule
    child.write_text(f'_base_ = [{search!r}]\n'
                     "train_cfg = dict(train_template='./nope.py')\n")
    with pytest.raises(FileNotFoundError) as err:
        resolve_config_path('./nope.py', str(child), keys)
    assert str(tmp_path / 'elsewhere' / 'nope.py') in str(err.value)
    assert 'relative to the config file that sets it' in str(err.value)


def test_the_search_plot_spans_the_scores_it_shows(tmp_path):
    from mmkd.search.outputs import plot_search, score_range
    generations = [
        dict(generation=0, scores=[-0.5, -float('inf'), -0.3],
             best_score=-0.3),
        dict(generation=1, scores=[-0.1], best_score=-0.1)]
    low, high = score_range(generations)
    assert low == pytest.approx(-0.52) and high == pytest.approx(-0.08)
    assert score_range([dict(generation=0, scores=[-float('inf')],
                             best_score=-float('inf'))]) is None
    path = plot_search(generations, str(tmp_path / 'p.png'))
    assert osp.getsize(path) > 1000
