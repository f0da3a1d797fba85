"""What docs/tutorials/ teaches, run: the search plugin of
custom_proxy_space.md (projects/example_search_plugin/: its proxy, space and
searcher, and a one-generation search with its config through the runner),
the connector plugin of custom_loss_connector.md, and the code the docs
quote from configs and projects."""
import copy
import importlib
import json
import os
import os.path as osp
import random
import re
import sys

import pytest
import torch
from mmengine.config import Config

from mmkd.engine import KDRunner, SearchRunner
from mmkd.registry import (CONNECTORS, MODELS, PROXIES, SEARCH_SPACES,
                           SEARCHERS)

from conftest import REPO_ROOT, tiny_classifier

CONFIG = osp.join(REPO_ROOT, 'projects', 'example_search_plugin', 'configs',
                  'cka_resnet20_widths-local_cifar10mini.py')
PLUGIN = 'projects.example_search_plugin.example_search_plugin'
REGISTERED = ((PROXIES, 'LinearCKA'), (SEARCH_SPACES,
                                       'CIFARResNetWidthSpace'),
              (SEARCHERS, 'LocalSearcher'))


@pytest.fixture(scope='module')
def plugin():
    """Import the plugin as the config's custom_imports does; afterwards
    remove its registrations and modules, so nothing leaks."""
    added = REPO_ROOT not in sys.path
    if added:
        sys.path.insert(0, REPO_ROOT)
    module = importlib.import_module(PLUGIN)
    yield module
    for registry, name in REGISTERED:
        registry._module_dict.pop(name, None)
    for name in [m for m in sys.modules if m.startswith(PLUGIN)]:
        del sys.modules[name]
    if added:
        sys.path.remove(REPO_ROOT)


def test_linear_cka_matches_a_hand_computed_value(plugin):
    # centred x = [-1, 0, 1], centred y = [-4/3, -1/3, 5/3]; for 1-d
    # features CKA = (x.y)^2 / (|x|^2 |y|^2) = 9 / (2 * 14/3) = 27/28
    x = torch.tensor([1., 2., 3.]).reshape(3, 1, 1, 1)
    y = torch.tensor([1., 2., 4.]).reshape(3, 1, 1, 1)
    cka = plugin.linear_cka(plugin.centered_gram(x), plugin.centered_gram(y))
    assert float(cka) == pytest.approx(27 / 28, abs=1e-12)
    # orthogonal after centring: [1, 0, 1] -> [1/3, -2/3, 1/3]
    z = torch.tensor([1., 0., 1.]).reshape(3, 1, 1, 1)
    assert float(plugin.linear_cka(plugin.centered_gram(x),
                                   plugin.centered_gram(z))) == \
        pytest.approx(0.0, abs=1e-12)
    # invariant to scale and to an orthogonal map of the features
    a = torch.randn(6, 4, 2, 2)
    q, _ = torch.linalg.qr(torch.randn(16, 16))
    b = 3.0 * (a.reshape(6, -1) @ q)
    assert float(plugin.linear_cka(plugin.centered_gram(a),
                                   plugin.centered_gram(b))) == \
        pytest.approx(1.0, abs=1e-9)


def test_linear_cka_proxy_scores_a_copy_of_the_teacher_as_one(plugin):
    torch.manual_seed(0)
    teacher = MODELS.build(tiny_classifier(widths=(4, 4, 8)))
    student = MODELS.build(tiny_classifier(widths=(4, 8, 16)))
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8, ))
    proxy = PROXIES.build(dict(type='LinearCKA', init=None))
    with pytest.raises(RuntimeError, match='call prepare'):
        proxy(student, x, y)
    proxy.prepare(teacher, x, y)
    assert proxy(copy.deepcopy(teacher), x, y) == pytest.approx(1.0)
    other = proxy(student, x, y)  # other widths: only N must agree
    assert 0.0 <= other < 1.0
    with pytest.raises(ValueError, match='batch of 4 samples'):
        proxy(student, x[:4], y[:4])
    with pytest.raises(ValueError, match='at least 2 samples'):
        proxy(student, x[:1], y[:1])


def test_width_space_follows_the_space_contract(plugin):
    space = SEARCH_SPACES.build(
        dict(type='CIFARResNetWidthSpace', width_choices=(8, 16, 32)))
    names = space.names()
    assert len(names) == 27 and len(set(names)) == 27
    assert names[0] == '8-8-8' and names[-1] == '32-32-32'
    rng = random.Random(0)
    for _ in range(20):
        name = space.sample(rng)
        child = space.mutate(name, rng)
        changed = [a != b for a, b in zip(space.decode(name),
                                          space.decode(child))]
        assert sum(changed) == 1
    cfg = space.to_config('8-16-32')
    assert cfg['backbone']['widths'] == (8, 16, 32)
    assert cfg['head']['in_channels'] == 32
    model = MODELS.build(cfg)
    assert model(torch.randn(2, 3, 32, 32), mode='tensor').shape == (2, 10)
    with pytest.raises(ValueError, match='not a candidate'):
        space.decode('8-16-24')
    with pytest.raises(ValueError, match='stage_blocks'):
        SEARCH_SPACES.build(
            dict(type='CIFARResNetWidthSpace', stage_blocks=(3, 3)))


def test_local_searcher_climbs_from_the_best_start(plugin):
    space = SEARCH_SPACES.build(
        dict(type='CIFARResNetWidthSpace', width_choices=(8, 16, 32, 64)))
    generations = []

    def evaluate(names):  # a made-up score: total width
        generations.append(list(names))
        return [float(sum(space.decode(n))) for n in names]

    searcher = SEARCHERS.build(
        dict(type='LocalSearcher', num_starts=3, num_steps=4, neighbours=2,
             seed=1))
    searcher.search(space, evaluate, lambda name: '64' not in name)
    assert [len(g) for g in generations] == [3, 2, 2, 2, 2]
    assert searcher.expected_evaluations(space) == 11
    assert all('64' not in n for g in generations for n in g)
    # every step mutates the best candidate scored before it
    best = max(generations[0], key=lambda n: sum(space.decode(n)))
    for gen in generations[1:]:
        for child in gen:
            diff = [a != b for a, b in zip(space.decode(best),
                                           space.decode(child))]
            assert sum(diff) == 1
        best = max([best] + gen, key=lambda n: sum(space.decode(n)))
    # deterministic given the seed and the scores
    first = generations[:]
    generations.clear()
    SEARCHERS.build(dict(type='LocalSearcher', num_starts=3, num_steps=4,
                         neighbours=2, seed=1)).search(
                             space, evaluate, lambda name: '64' not in name)
    assert generations == first
    with pytest.raises(ValueError, match='num_starts'):
        SEARCHERS.build(dict(type='LocalSearcher', num_starts=0))


def test_plugin_config_searches_one_generation(plugin, tmp_path):
    cfg = Config.fromfile(CONFIG)  # runs custom_imports
    assert cfg.train_cfg.proxy.type == 'LinearCKA'
    cfg.work_dir = str(tmp_path)
    cfg.model = tiny_classifier(widths=(4, 8, 8))  # a small teacher
    cfg.train_dataloader.batch_size = 8
    cfg.train_dataloader.dataset.indices = list(range(0, 5000, 250))
    cfg.train_cfg.space.width_choices = (4, 8)
    cfg.train_cfg.space.stage_blocks = (1, 1, 1)
    cfg.train_cfg.searcher.num_steps = 0  # generation 0 only
    cfg.train_cfg.searcher.num_starts = 3
    runner = SearchRunner.from_cfg(cfg)
    runner.train()

    with open(osp.join(tmp_path, 'candidates.jsonl')) as f:
        records = [json.loads(line) for line in f]
    with open(osp.join(tmp_path, 'search_summary.json')) as f:
        summary = json.load(f)
    assert 1 <= len(records) <= 3
    assert {r['generation'] for r in records} == {0}
    for r in records:
        assert 0.0 <= r['score'] <= 1.0 + 1e-9
        assert r['config']['backbone']['type'] == 'CIFARStageResNet'
        assert r['scores']['params'] == r['params']  # the base's extra proxy
    assert summary['proxy'] == 'LinearCKA'
    assert len(summary['generations']) == 1
    best = max(records, key=lambda r: r['score'])
    assert summary['best']['name'] == best['name']
    trained = Config.fromfile(osp.join(tmp_path, 'best_student_kd.py'))
    assert list(trained.model.student.backbone.widths) == \
        [int(w) for w in best['name'].split('-')]
    assert list(trained.model.teacher.backbone.widths) == [4, 8, 8]


# ------------------------------------------------- the docs' code blocks
DOCS = osp.join(REPO_ROOT, 'docs')
QUOTING_PAGES = sorted(
    osp.join(sub, page) for sub in ('tutorials', 'methods')
    for page in os.listdir(osp.join(DOCS, sub)) if page.endswith('.md'))


def code_blocks(page):
    """``(first line, body)`` of every fenced python block of a page."""
    with open(osp.join(DOCS, page)) as f:
        text = f.read()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    return [(b.split('\n', 1)[0], b.split('\n', 1)[1]) for b in blocks]


@pytest.mark.parametrize('page', QUOTING_PAGES)
def test_docs_code_quoted_from_a_file_is_in_that_file(page):
    """A block headed ``# projects/...`` or ``# from configs/...`` quotes
    that file: each part between ``# ...`` lines must appear there
    verbatim, so the docs follow the code."""
    for first, body in code_blocks(page):
        m = re.match(r'# (?:from )?((?:projects|configs)/\S+\.py)$', first)
        if m is None:
            continue
        with open(osp.join(REPO_ROOT, m.group(1))) as f:
            source = f.read()
        for part in re.split(r'^# \.\.\.$', body, flags=re.M):
            assert part.strip() in source, (
                f'{page} quotes {m.group(1)}, which has changed; update '
                'the quote')


def test_connector_tutorial_code_builds_and_trains(tmp_path):
    """The `# file: my_plugin/...` blocks of custom_loss_connector.md,
    written to disk as a reader would, build and train one step."""
    blocks = code_blocks('tutorials/custom_loss_connector.md')
    files = {first[len('# file: '):]: body
             for first, body in blocks if first.startswith('# file: ')}
    assert set(files) == {
        'my_plugin/mlp_connector.py',
        'my_plugin/configs/mlp-hint_resnet20_resnet8-w8_1xb64_cifar10mini.py'
    }
    for rel, body in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (tmp_path / 'configs').symlink_to(osp.join(REPO_ROOT, 'configs'))
    sys.path.insert(0, str(tmp_path))
    try:
        cfg = Config.fromfile(
            str(tmp_path / 'my_plugin' / 'configs' /
                'mlp-hint_resnet20_resnet8-w8_1xb64_cifar10mini.py'))
        assert 'MLPConnector' in CONNECTORS.module_dict
        cfg.work_dir = str(tmp_path / 'work')
        cfg.model.teacher_ckpt = None
        cfg.train_dataloader.dataset.indices = 8
        cfg.train_dataloader.batch_size = 4
        cfg.val_dataloader.dataset.indices = 4
        cfg.train_cfg.max_epochs = 1
        cfg.default_hooks.logger.interval = 1
        runner = KDRunner.from_cfg(cfg)
        model = runner.model
        assert type(model.connectors['s_proj']).__name__ == 'MLPConnector'
        runner.train()
        log = next((tmp_path / 'work').glob('*/*.log')).read_text()
        assert 'loss_hint' in log and 'loss_kd' in log
        # a wrong width is caught when the distiller is built
        cfg.model.connectors.s_proj.in_channels = 16
        with pytest.raises(Exception, match='MLPConnector expects'):
            MODELS.build(cfg.model)
    finally:
        sys.path.remove(str(tmp_path))
        CONNECTORS._module_dict.pop('MLPConnector', None)
        for name in [m for m in sys.modules if m.startswith('my_plugin')]:
            del sys.modules[name]
