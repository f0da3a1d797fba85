"""model-index.yml and configs/*/metafile.yml cover every config.

The rule: every directory directly under configs/ except ``_base_`` (method
folders, ``cifar_models`` and ``quickstart`` alike: all hold runnable
configs) has a ``metafile.yml`` that ``model-index.yml`` imports, and each
``*.py`` in it is the ``Config`` of exactly one entry. Published and
measured figures must appear in the file their ``Source`` names, so none is
typed in from memory. Schema: docs/user_guides/reproduce.md.
"""
import glob
import os.path as osp
import re

import pytest

from mmkd.utils.model_index import (INDEX_FILE, METAFILE, NOT_METHOD_DIRS,
                                    entry_skeleton, metafile_paths,
                                    read_yaml)

from conftest import REPO_ROOT

CONFIG_DIRS = sorted(
    osp.basename(osp.dirname(p))
    for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', ''))
    if osp.basename(osp.dirname(p)) not in NOT_METHOD_DIRS)
METRIC = 'Top 1 Accuracy'


def _metafile(directory):
    return f'configs/{directory}/{METAFILE}'


def _load(directory):
    path = osp.join(REPO_ROOT, _metafile(directory))
    if not osp.isfile(path):
        pytest.fail(f'{_metafile(directory)} is missing: every directory '
                    'under configs/ except _base_ needs one (copy '
                    'configs/kd/metafile.yml and list it under Import in '
                    f'{INDEX_FILE}).')
    return read_yaml(path)


def _collection(data, directory):
    names = [c['Name'] for c in data.get('Collections') or []]
    return names[0] if names else directory


def _coverage_problems(root, directory):
    """One message per config of ``directory`` not in exactly one entry."""
    data = read_yaml(osp.join(root, _metafile(directory)))
    configs = sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, 'configs', directory, '*.py')))
    listed = {}
    for path in metafile_paths(root):
        for model in read_yaml(osp.join(root, path)).get('Models') or []:
            listed.setdefault(osp.normpath(model['Config']), []).append(path)
    problems = []
    for config in configs:
        where = listed.get(config, [])
        if not where:
            problems.append(
                f'{config} is in no metafile: add this entry under Models in '
                f'{_metafile(directory)} (values from its README):\n'
                + entry_skeleton(config, _collection(data, directory)))
        elif len(where) > 1:
            problems.append(f'{config} has an entry in each of {where}; keep '
                            f'only the one in {_metafile(directory)}.')
    return problems


@pytest.mark.parametrize('directory', CONFIG_DIRS)
def test_every_config_has_exactly_one_entry(directory):
    _load(directory)
    problems = _coverage_problems(REPO_ROOT, directory)
    assert not problems, '\n'.join(problems)


def test_model_index_imports_every_metafile():
    imported = metafile_paths(REPO_ROOT)
    missing = [_metafile(d) for d in CONFIG_DIRS
               if _metafile(d) not in imported]
    assert not missing, (f'{INDEX_FILE} does not import {missing}: add each '
                         'as "- <path>" under Import.')
    absent = [p for p in imported if not osp.isfile(osp.join(REPO_ROOT, p))]
    assert not absent, f'{INDEX_FILE} imports {absent}, which do not exist.'
    assert len(set(imported)) == len(imported), f'{INDEX_FILE} repeats a path.'


def _number_in_source(value, source, where):
    """The figure is written, with two decimals, in the file ``source``
    names (a README or docs page of this repository)."""
    files = re.findall(r'((?:configs|docs)/[\w\-./]+\.md)', source)
    assert files, (f'{where}: Source {source!r} must name the repository '
                   'file that quotes the figure, e.g. "RepDistiller README '
                   '(quoted in configs/kd/README.md)".')
    for name in files:
        path = osp.join(REPO_ROOT, name)
        assert osp.isfile(path), f'{where}: Source names {name}, not a file.'
        if f'{value:.2f}' in open(path).read():
            return
    raise AssertionError(f'{where}: {value:.2f} is not written in {files}; '
                         'quote the figure there first.')


@pytest.mark.parametrize('directory', CONFIG_DIRS)
def test_entries_are_complete(directory):
    data = _load(directory)
    collections = [c.get('Name') for c in data.get('Collections') or []]
    assert collections, f'{_metafile(directory)} needs a Collections entry.'
    models = data.get('Models') or []
    assert models, f'{_metafile(directory)} has no Models.'
    for model in models:
        where = f"{_metafile(directory)}: {model.get('Name')}"
        for key in ('Name', 'In Collection', 'Config', 'Metadata', 'Results'):
            assert key in model, f'{where} lacks {key!r}.'
        config = model['Config']
        assert osp.isfile(osp.join(REPO_ROOT, config)), (
            f'{where}: Config {config} does not exist (renamed or removed? '
            'update or delete the entry).')
        assert osp.dirname(config) == f'configs/{directory}', (
            f'{where}: Config {config} belongs in that directory\'s '
            'metafile.')
        assert model['Name'] == osp.splitext(osp.basename(config))[0], (
            f'{where}: Name must be the config file name without .py.')
        assert model['In Collection'] in collections, (
            f"{where}: In Collection {model['In Collection']!r} is not one "
            f'of the Collections {collections}.')
        assert 'Training Data' in model['Metadata'], (
            f'{where}: Metadata lacks Training Data.')
        assert model['Results'], f'{where}: Results is empty.'
        for result in model['Results']:
            for key in ('Task', 'Dataset', 'Metrics', 'Published'):
                assert key in result, f'{where}: a result lacks {key!r}.'
            published = result['Published']
            assert METRIC in published and 'Source' in published, (
                f'{where}: Published needs "{METRIC}" (null if none) and '
                'Source (none if nothing was published).')
            if published[METRIC] is None:
                assert published['Source'] == 'none', (
                    f'{where}: no published figure, so Source must be none.')
            else:
                _number_in_source(published[METRIC], published['Source'],
                                  where)
            if METRIC in result['Metrics']:
                measured = result.get('Measured') or {}
                for key in ('Command', 'Machine', 'Date', 'Source'):
                    assert key in measured, (
                        f'{where}: a measured figure needs Measured.{key} '
                        '(how it was obtained).')
                _number_in_source(result['Metrics'][METRIC],
                                  measured['Source'], where)
            else:
                assert 'Measured' not in result, (
                    f'{where}: Measured without a figure in Metrics.')


def test_the_check_finds_a_missing_config(tmp_path):
    """The failure names the config, the metafile and the entry to add."""
    fake = tmp_path / 'configs' / 'kd'
    fake.mkdir(parents=True)
    (fake / 'kd_a_b_1xb64_cifar100.py').write_text('')
    (fake / 'kd_c_d_1xb64_cifar100.py').write_text('')
    (fake / METAFILE).write_text(
        'Collections:\n- Name: KD\nModels:\n- Name: kd_a_b_1xb64_cifar100\n'
        '  Config: configs/kd/kd_a_b_1xb64_cifar100.py\n')
    (tmp_path / INDEX_FILE).write_text(f'Import:\n- configs/kd/{METAFILE}\n')
    problems = _coverage_problems(str(tmp_path), 'kd')
    assert len(problems) == 1
    message = problems[0]
    assert 'configs/kd/kd_c_d_1xb64_cifar100.py is in no metafile' in message
    assert 'configs/kd/metafile.yml' in message
    assert '- Name: kd_c_d_1xb64_cifar100\n  In Collection: KD' in message
    assert 'kd_a_b' not in message
