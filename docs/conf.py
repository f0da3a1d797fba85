# Sphinx configuration of the mmkd documentation.
#
# Build (from the repository root):
#     python -m sphinx -b html -n -W --keep-going docs docs/_build/html
# ``tests/test_docs/test_sphinx_build.py`` runs the same check, so a page or
# a docstring with a reference that does not resolve fails the tests.
import importlib
import os
import os.path as osp
import pkgutil
import re
import sys

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.util.nodes import nested_parse_with_titles

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

import mmkd  # noqa: E402

# -- Project -----------------------------------------------------------------

project = 'mmkd'
copyright = '2026, mmkd contributors'
author = 'mmkd contributors'
version = mmkd.__version__
release = mmkd.__version__

# -- General -----------------------------------------------------------------

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'Thumbs.db', '.DS_Store']

# Markdown: ``[text](page.md#a-heading)`` links between pages resolve to
# the heading anchors MyST generates for levels 1-4; ``\[ ... \]`` and
# ``$...$`` are maths.
myst_heading_anchors = 4
myst_enable_extensions = ['dollarmath', 'amsmath']

# -- Missing references ------------------------------------------------------

# Every reference must resolve: ``-n`` (nitpicky) makes an unresolved one a
# warning and the docs test builds with ``-W``.
nitpicky = True
# No intersphinx: the docs build offline (CI has no network), so types from
# other packages cannot be resolved and are ignored here. Only external
# names are listed; an unresolved ``mmkd.*`` reference is always an error.


def external_short_names():
    """Undotted names of the packages mmkd builds on, as docstrings write
    them (``Tensor``, ``nn.Module``'s ``Module``, mmengine's ``Runner``,
    ``Config`` ...), plus napoleon's ``optional`` and ``callable``.

    A name that an mmkd object has is resolved to it before this list is
    consulted (``resolve_mmkd_name``), so the list hides external names
    only.
    """
    names = {'optional', 'callable'}
    for modname in ('torch', 'torch.nn', 'torch.utils.data', 'typing',
                    'mmengine.config', 'mmengine.dataset', 'mmengine.hooks',
                    'mmengine.model', 'mmengine.optim', 'mmengine.registry',
                    'mmengine.runner', 'mmengine.structures',
                    'mmpretrain.models', 'mmpretrain.structures'):
        module = importlib.import_module(modname)
        names.update(n for n in dir(module) if not n.startswith('_'))
    return sorted(names)


def external_member_names():
    """Public methods and attributes of ``torch.nn.Module`` and mmengine's
    ``BaseModel`` (``forward``, ``train_step``, ``state_dict`` ...)."""
    import torch.nn as nn
    from mmengine.model import BaseModel
    return sorted({
        n for cls in (nn.Module, BaseModel) for n in dir(cls)
        if not n.startswith('_')
    })


_EXTERNAL = ('torch', 'torchvision', 'mmengine', 'mmpretrain', 'mmcv',
             'numpy', 'PIL', 'matplotlib', 'scipy',
             # the short names the sources import them as
             'nn', 'np')
# The Python standard library (``collections.OrderedDict``,
# ``random.Random``, ``typing.Optional`` ...); Python 3.9 has no
# ``sys.stdlib_module_names``, so it gets the modules mmkd uses.
_STDLIB = tuple(sorted(getattr(
    sys, 'stdlib_module_names',
    ('abc', 'argparse', 'collections', 'copy', 'enum', 'functools', 'json',
     'math', 'os', 'pathlib', 'random', 're', 'types', 'typing'))))
nitpick_ignore_regex = [
    # classes, functions and data of the packages mmkd builds on
    ('py:.*', r'(%s)\..+' % '|'.join(_EXTERNAL)),
    # the standard library, by its dotted names
    ('py:.*', r'(%s)\..+' % '|'.join(_STDLIB)),
    # the short names docstrings and annotations give external classes
    # (``Tensor``, ``Runner``, ``Config``, ``Optional`` ...), below
    ('py:.*', r'(%s)' % '|'.join(external_short_names())),
    # the nn.Module / BaseModel contract that mmkd's classes implement
    # (``:meth:`forward```, ``:meth:`train_step```)
    ('py:(meth|attr)', r'(%s)' % '|'.join(external_member_names())),
]

# -- Autodoc -----------------------------------------------------------------

autodoc_member_order = 'bysource'
# Only what mmkd writes: an override without a docstring (``train``,
# ``forward``) would otherwise show torch's or mmengine's text.
autodoc_inherit_docstrings = False
autodoc_typehints = 'signature'
autodoc_default_options = {'show-inheritance': True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- HTML --------------------------------------------------------------------

# OpenMMLab projects use pytorch_sphinx_theme, which is installed from a git
# URL (not a wheel on the package index), so it cannot be installed offline
# with the ``tests`` extra; the Read the Docs theme is the closest wheel.
html_theme = 'sphinx_rtd_theme'
html_title = f'mmkd {release}'
html_static_path = []


# -- API reference: every module of a package, found at build time -----------


def public_modules(package):
    """Names of ``package`` and every module below it, sorted.

    Private modules (a name part starting with ``_``) are left out.
    """
    pkg = importlib.import_module(package)
    names = [package]
    if hasattr(pkg, '__path__'):
        for info in pkgutil.walk_packages(pkg.__path__, package + '.'):
            if not any(part.startswith('_') for part in info.name.split('.')):
                names.append(info.name)
    return sorted(names)


def named_modules(text):
    """Modules an rst text documents with ``automodule`` or
    ``mmkd-automodules`` (the latter: the package and every module below)."""
    return re.findall(r'^\.\. (?:mmkd-automodules|automodule):: (\S+)\s*$',
                      text, flags=re.M)


class AutoModules(Directive):
    """``.. mmkd-automodules:: mmkd.models.losses``: an ``automodule`` with
    ``:members:`` for every module of the package, each under its own
    heading, so a module added to mmkd appears without editing
    ``api.rst``. The package itself contributes its docstring only: its
    members are documented once, in the module that defines them.

    With the ``:rest:`` flag, only the modules that no other
    ``automodule`` / ``mmkd-automodules`` of the same page covers: a
    catch-all for packages added later.
    """

    required_arguments = 1
    has_content = False
    option_spec = {'rest': directives.flag}

    def run(self):
        package = self.arguments[0]
        names = public_modules(package)
        if 'rest' in self.options:
            with open(self.state.document.current_source) as f:
                roots = [r for r in named_modules(f.read()) if r != package]
            names = [
                name for name in names if not any(
                    name == root or name.startswith(root + '.')
                    or root.startswith(name + '.') for root in roots)]
        lines = []
        for name in names:
            module = importlib.import_module(name)
            if name != package:
                # the package itself sits under the page's own heading
                lines += [name, '~' * len(name), '']
            if hasattr(module, '__path__'):
                lines += [f'.. automodule:: {name}', '']
            else:
                lines += [f'.. automodule:: {name}', '   :members:', '']
        content = StringList(lines, source=f'<mmkd-automodules {package}>')
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, content, node)
        return node.children


class RegistryTable(Directive):
    """``.. mmkd-registries::``: every registry node of ``mmkd.registry``
    (its ``__all__``), with its parent and its ``locations``.

    Autodoc leaves the nodes out: a ``Registry`` with no member yet has
    length 0, so it reads as false (and its docstring is the class's)."""

    has_content = False

    def run(self):
        from mmengine.registry import Registry

        import mmkd.registry
        lines = []
        for name in mmkd.registry.__all__:
            node = getattr(mmkd.registry, name)
            if not isinstance(node, Registry):
                continue
            if node.parent is not None:
                where = (f"a child of ``{node.parent.scope}``'s "
                         f"``'{node.parent.name}'``")
            else:
                where = 'a root'
            locations = ', '.join(f'``{loc}``' for loc in node._locations)
            lines += [
                f'.. py:data:: {name}', '   :module: mmkd.registry',
                '   :type: mmengine.registry.Registry', '',
                f"   Registry ``'{node.name}'``, {where}; filled by "
                f'{locations or "no package"}.', ''
            ]
        content = StringList(lines, source='<mmkd-registries>')
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(content, 0, node)
        return node.children


def locate(dotted):
    """The object named by a dotted path (``mmkd.datasets.CRDDataset``), or
    None if no module and attribute chain has that name."""
    parts = dotted.split('.')
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def resolve_mmkd_name(app, env, node, contnode):
    """Resolve a reference to an mmkd object that Sphinx did not find.

    - ``mmkd.datasets.CRDDataset``: docstrings name classes by the path
      users import them from; the API reference documents each one in its
      defining module (``mmkd.datasets.crd.CRDDataset``), which the import
      path is followed to.
    - ``PCAProjector``: a short name, resolved if exactly one documented
      mmkd object has it.

    Only documented objects resolve; otherwise the warning stands.
    """
    if node.get('refdomain') != 'py':
        return None
    target = node.get('reftarget', '')
    domain = env.get_domain('py')
    if target.startswith('mmkd.'):
        obj = locate(target)
        module = getattr(obj, '__module__', None)
        qualname = getattr(obj, '__qualname__', None)
        if not module or not qualname or f'{module}.{qualname}' == target:
            return None
        canonical = f'{module}.{qualname}'
    elif target and '.' not in target.lstrip('~'):
        name = target.lstrip('~')
        matches = [
            full for full in domain.objects
            if full.startswith('mmkd.') and full.endswith('.' + name)
            and domain.objects[full].objtype not in ('module', )
        ]
        if len(matches) != 1:
            return None
        canonical = matches[0]
    else:
        return None
    return domain.resolve_xref(env, node['refdoc'], app.builder,
                               node['reftype'], canonical, node, contnode)


def skip_private_bases(app, name, obj, options, bases):
    """Show a private base class (``_CEGradProxy``) as its public bases: it
    is not documented, so a link to it could not resolve."""
    public = []
    for base in bases:
        pending = [base]
        while pending:
            cls = pending.pop(0)
            if cls.__name__.startswith('_'):
                pending = list(cls.__bases__) + pending
            elif cls not in public:
                public.append(cls)
    bases[:] = public


def link_repository_paths(app, doctree):
    """Markdown links to repository folders and pages outside ``docs/``
    (``[kd](../../configs/kd)``) become the path as code, once checked.

    On GitHub these links open the folder; the HTML pages cannot, so they
    show where the file is in a checkout. A link to a path that does not
    exist keeps MyST's missing-reference warning.
    """
    env = app.env
    for node in list(doctree.findall(addnodes.pending_xref)):
        if node.get('reftype') != 'myst':
            continue
        target = node['reftarget']
        if node.get('refdomain') == 'doc':
            if target in env.found_docs or not osp.isabs(target):
                continue
            candidates = [target + suffix for suffix in source_suffix]
        elif node.get('refdomain') is None and '://' not in target:
            _, path = env.relfn2path(target.split('#')[0], env.docname)
            candidates = [path]
        else:
            continue
        for path in candidates:
            path = osp.normpath(path)
            inside_repo = path.startswith(REPO_ROOT + os.sep)
            outside_docs = not path.startswith(str(app.srcdir) + os.sep)
            if inside_repo and outside_docs and osp.exists(path):
                rel = osp.relpath(path, REPO_ROOT)
                node.replace_self(nodes.literal(rel, rel))
                break


def setup(app):
    app.add_directive('mmkd-automodules', AutoModules)
    app.add_directive('mmkd-registries', RegistryTable)
    app.connect('missing-reference', resolve_mmkd_name)
    app.connect('autodoc-process-bases', skip_private_bases)
    app.connect('doctree-read', link_repository_paths)
