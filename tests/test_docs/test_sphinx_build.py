"""The Sphinx build of ``docs/``: no warning, missing references included.

``-n`` (nitpicky) reports every reference that does not resolve and ``-W``
turns warnings into errors; ``--keep-going`` lists all of them at once.
``docs/conf.py`` ignores only external names (torch, mmengine, the
standard library ...) because intersphinx cannot fetch inventories offline.
"""
import importlib
import os
import pkgutil
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO_ROOT

DOCS = os.path.join(REPO_ROOT, 'docs')


def sphinx(srcdir, outdir, builder='html', confdir=None):
    cmd = [sys.executable, '-m', 'sphinx', '-b', builder, '-n', '-W',
           '--keep-going', '-q', '-E']
    if confdir is not None:
        cmd += ['-c', confdir]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(cmd + [str(srcdir), str(outdir)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True,
                          timeout=300)


def warnings_of(proc):
    return [line for line in proc.stderr.splitlines()
            if 'WARNING' in line or 'ERROR' in line]


@pytest.fixture(scope='module')
def html_build(tmp_path_factory):
    out = tmp_path_factory.mktemp('docs') / 'html'
    return sphinx(DOCS, out), out


def test_docs_build_without_warnings(html_build):
    proc, html = html_build
    assert proc.returncode == 0, (
        'the docs build has warnings (python -m sphinx -b html -n -W '
        '--keep-going docs docs/_build/html):\n' + '\n'.join(
            warnings_of(proc) or [proc.stderr[-3000:]]))
    for page in ('index', 'api', 'get_started', 'benchmarks',
                 'user_guides/visual_tools', 'methods/README'):
        assert (html / f'{page}.html').is_file(), page


def test_api_reference_documents_every_module(html_build):
    """Every module of mmkd has an entry in api.html, generated from its
    docstrings, including modules added after api.rst was written."""
    proc, html = html_build
    api = (html / 'api.html').read_text()
    import mmkd
    modules = [
        info.name for info in pkgutil.walk_packages(mmkd.__path__, 'mmkd.')
        if not any(p.startswith('_') for p in info.name.split('.'))]
    # ``mmkd.models`` only re-exports its four subpackages.
    missing = [name for name in modules if name != 'mmkd.models'
               and f'id="module-{name}"' not in api]
    assert not missing, (f'{missing} are not in the API reference; '
                         + proc.stderr[-2000:])
    for name in ('mmkd.models.losses.kd.KDLoss',
                 'mmkd.models.algorithms.single_teacher.'
                 'SingleTeacherDistiller',
                 'mmkd.search.proxies.diswot.DisWOT',
                 'mmkd.engine.runner.KDRunner', 'mmkd.registry.MODELS',
                 'mmkd.registry.DISTILL_LOSSES'):
        assert f'id="{name}"' in api, name
    # a docstring's Args: section is rendered as a parameter list
    kd = api[api.index('id="mmkd.models.losses.kd.KDLoss"'):]
    kd = kd[:kd.index('</dl>')]
    assert 'Parameters' in kd and 'tau' in kd


def test_missing_mmkd_reference_fails_the_build(tmp_path):
    """The ignore list of docs/conf.py hides external names only: a wrong
    ``mmkd`` name fails, a public import path of a documented class and an
    external name do not."""
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'index.rst').write_text(textwrap.dedent("""\
        Index
        =====

        .. automodule:: mmkd.datasets.cifar10_mini
           :members:

        Public path :class:`mmkd.datasets.CIFAR10Mini`, short name
        :class:`CIFAR10Mini`, external :class:`torch.Tensor`,
        :class:`Tensor`, :class:`Runner` and
        :class:`collections.OrderedDict`, typos
        :class:`mmkd.datasets.CIFAR10Minii` and :class:`CIFAR10Minii`, a
        wrong module :func:`mmkd.nope.build`.
        """))
    proc = sphinx(src, tmp_path / 'out', builder='dummy', confdir=DOCS)
    assert proc.returncode != 0
    missing = re.findall(r'reference target not found: (\S+)', proc.stderr)
    assert sorted(missing) == ['CIFAR10Minii', 'mmkd.datasets.CIFAR10Minii',
                               'mmkd.nope.build'], proc.stderr[-3000:]


def test_every_exported_name_has_a_docstring():
    """Autodoc renders what the docstrings say: a public class or function
    exported by an mmkd package without a docstring would be an empty
    entry in the API reference."""
    undocumented = []
    import mmkd
    for info in pkgutil.walk_packages(mmkd.__path__, 'mmkd.'):
        if not info.ispkg:
            continue
        package = importlib.import_module(info.name)
        for name in getattr(package, '__all__', []):
            obj = getattr(package, name)
            if callable(obj) and not (obj.__doc__ or '').strip():
                undocumented.append(f'{info.name}.{name}')
    assert not undocumented, undocumented
