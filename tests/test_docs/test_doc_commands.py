"""Every shell command in README.md and docs/**/*.md is real.

Commands come from fenced code blocks tagged ``bash`` / ``shell`` / ``sh``
and from untagged blocks that start with ``python tools/`` or
``bash tools/``. For each command:

- ``python tools/X.py ...``: the script exists, every repository path it
  names (``configs/...``, ``projects/...``) exists, and the arguments parse
  with the tool's own parser (``parse_args(argv)``);
- ``bash tools/X.sh ...``: the same for the Python tool the script runs,
  with the arguments the script passes on (``SHELL_TOOLS``);
- ``python benchmarks/X.py ...``: the same, through the script's ``main``
  stopped right after its argument parser;
- ``pip install`` and ``pytest`` lines are exactly the README's install and
  test commands, which ``.ci/run`` runs;
- ``git clone`` and ``cd`` (the setup steps) are taken as they are;
  anything else is reported.

Upper-case placeholders (``CONFIG``, ``work_dirs/NAME/epoch_240.pth``,
``${WORK_DIR}``, ``<...>``) are allowed as positional arguments only, and as
option values in a usage synopsis written with ``[...]``. A problem is
reported as ``file:line: `command`: what is wrong``.
"""
import argparse
import contextlib
import glob
import importlib.util
import inspect
import io
import os
import os.path as osp
import re
import shlex
import sys

import pytest

from conftest import REPO_ROOT

SHELL_LANGS = {'bash', 'shell', 'sh'}
TOOL_PREFIXES = ('python tools/', 'bash tools/')
# Paths that must exist in the repository when a command names them.
REPO_DIRS = ('configs/', 'projects/', 'tools/', 'benchmarks/')
PLACEHOLDER = re.compile(r'^[A-Z][A-Z0-9_]*$|\$\{?\w+\}?|<[^>]*>')
SETUP_COMMANDS = (('git', 'clone'), ('cd', ))


def _dist(tool, n_forwarded):
    """A ``tools/dist_*.sh``: the first ``n_forwarded`` arguments go to
    ``tool`` followed by ``--launcher pytorch``; the next one is the number
    of processes; the rest go to ``tool`` as they are."""

    def build(positional):
        return positional[:n_forwarded] + ['--launcher', 'pytorch']

    return dict(tool=tool, positional=n_forwarded + 1, build=build,
                numeric=[n_forwarded])


#: How each shell script calls its Python tool: how many positional
#: arguments it takes (``${@:N}`` passes the rest on), which of them must
#: be numbers, and the tool's arguments made of them. Checked against the
#: scripts by ``test_shell_tools_table_matches_the_scripts``.
SHELL_TOOLS = {
    'tools/dist_train.sh': _dist('tools/train.py', 1),
    'tools/dist_search.sh': _dist('tools/search.py', 1),
    'tools/dist_test.sh': _dist('tools/test.py', 2),
    'tools/slurm_train.sh': dict(
        tool='tools/train.py', positional=4, numeric=[],
        build=lambda p: [p[2], f'--work-dir={p[3]}', '--launcher=slurm']),
}


# -- extraction ---------------------------------------------------------------


def doc_files():
    files = [osp.join(REPO_ROOT, 'README.md')] + sorted(
        glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'), recursive=True))
    return [f for f in files if '_build' not in f.split(os.sep)]


def code_blocks(text):
    """``(line, lang, lines)`` of each fenced code block of a Markdown text
    (``line``: 1-based line of the block's first content line)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r'^\s*(`{3,}|~{3,})\s*([^\s`]*)', lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2)
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j])
            j += 1
        yield i + 2, lang, body
        i = j + 1


def commands_of_markdown(text):
    """``(line, command)`` of every shell command in a Markdown text;
    continued lines (``\\``) are joined, comment lines skipped."""
    found = []
    for first, lang, body in code_blocks(text):
        stripped = [line.strip() for line in body]
        if lang not in SHELL_LANGS:
            head = next((s for s in stripped if s), '')
            if lang or not head.startswith(TOOL_PREFIXES):
                continue
        command, start = '', None
        for offset, line in enumerate(stripped):
            if not command and (not line or line.startswith('#')):
                continue
            if start is None:
                start = first + offset
            if line.endswith('\\'):
                command += line[:-1].rstrip() + ' '
                continue
            found.append((start, command + line))
            command, start = '', None
        if command:
            found.append((start, command))
    return found


def split_commands(command):
    """Tokens of each simple command in ``a && b`` / ``a; b``, without
    comments and leading ``VAR=value`` assignments."""
    tokens = shlex.split(command, comments=True)
    groups, current = [], []
    for token in tokens:
        if token in ('&&', ';', '||'):
            groups.append(current)
            current = []
        else:
            current.append(token)
    groups.append(current)
    result = []
    for group in groups:
        while group and re.match(r'^[A-Za-z_]\w*=', group[0]):
            group = group[1:]
        if group:
            result.append(group)
    return result


# -- the README's install and test commands -----------------------------------


def readme_command(word):
    """The README command whose tokens include ``word``."""
    with open(osp.join(REPO_ROOT, 'README.md')) as f:
        text = f.read()
    for _, command in commands_of_markdown(text):
        for tokens in split_commands(command):
            if word in tokens:
                return tokens
    raise AssertionError(f'README.md has no command with {word!r}.')


# -- checking one command -----------------------------------------------------

_MODULES = {}


def load_script(path):
    if path not in _MODULES:
        name = '_doc_' + re.sub(r'\W', '_', path)
        spec = importlib.util.spec_from_file_location(
            name, osp.join(REPO_ROOT, path))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


class _Parsed(Exception):
    """Raised right after a script's parser ran (scripts without a
    ``parse_args(args)`` entry point: nothing after the parser runs)."""


def parse_with_script(path, argv):
    """``(parser, namespace, error)``: ``argv`` parsed by the script's own
    parser; ``error`` is argparse's message when they do not parse."""
    module = load_script(path)
    seen = {}
    original = argparse.ArgumentParser.parse_args
    entry = getattr(module, 'parse_args', None)
    takes_args = entry is not None and bool(
        inspect.signature(entry).parameters)

    def recording(self, args=None, namespace=None):
        seen['parser'] = self
        seen['namespace'] = original(self, args, namespace)
        if not takes_args:
            raise _Parsed
        return seen['namespace']

    environ = dict(os.environ)
    stderr = io.StringIO()
    old_argv = sys.argv
    try:
        argparse.ArgumentParser.parse_args = recording
        sys.argv = [path] + list(argv)
        with contextlib.redirect_stderr(stderr):
            if takes_args:
                entry(list(argv))
            elif path.startswith('tools/'):
                return None, None, ('has no parse_args(args=None) entry '
                                    'point to check the arguments with')
            else:
                module.main()
    except _Parsed:
        pass
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        return seen.get('parser'), None, (lines[-1] if lines else
                                          'the parser exited')
    finally:
        argparse.ArgumentParser.parse_args = original
        sys.argv = old_argv
        # tools/train.py sets LOCAL_RANK when it is missing
        os.environ.clear()
        os.environ.update(environ)
    if 'namespace' not in seen:
        return None, None, 'the script does not parse its arguments'
    return seen['parser'], seen['namespace'], None


def desynopsis(args):
    """A usage synopsis as arguments: ``[--resume [PATH]]`` gives
    ``--resume PATH``, a bracket group without a flag (``[train.py
    args]``) and ``...`` are dropped. Returns ``(args, optional)``, the
    latter the tokens that came from brackets."""
    if not any('[' in a or ']' in a for a in args):
        return list(args), set()
    out, optional, group, depth = [], set(), [], 0
    for arg in args:
        opens, closes = arg.count('['), arg.count(']')
        token = arg.replace('[', '').replace(']', '')
        if depth == 0 and opens == 0:
            if token and token != '...':
                out.append(token)
            continue
        depth += opens
        if token and token != '...':
            group.append(token)
        depth -= closes
        if depth <= 0:
            depth = 0
            if any(t.startswith('-') for t in group):
                out += group
                optional.update(group)
            group = []
    return out, optional


def has_placeholder(token):
    return any(PLACEHOLDER.search(part) for part in re.split(r'[/=]', token))


def check_paths(args):
    problems = []
    for arg in args:
        for value in [arg] + arg.split('=')[1:]:
            if (value.startswith(REPO_DIRS) and not has_placeholder(value)
                    and not osp.exists(osp.join(REPO_ROOT, value))):
                problems.append(f'{value} does not exist')
    return problems


def check_tool_args(path, argv, allowed_placeholders=()):
    """Problems of ``argv`` for the Python script ``path``."""
    if not osp.isfile(osp.join(REPO_ROOT, path)):
        return [f'{path} does not exist']
    argv, optional = desynopsis(argv)
    problems = check_paths(argv)
    parser, namespace, error = parse_with_script(path, argv)
    if error:
        return problems + [f'{path}: {error}']
    positional = {a.dest for a in parser._actions if not a.option_strings}
    for token in argv:
        if not has_placeholder(token) or token in optional or \
                token in allowed_placeholders:
            continue
        dests = [
            dest for dest, value in vars(namespace).items()
            if value == token or (isinstance(value, (list, tuple))
                                  and token in value)
        ]
        if not any(dest in positional for dest in dests):
            problems.append(
                f'placeholder {token} is not a positional argument of '
                f'{path}; write a real value')
    return problems


def check_command(tokens):
    """Problems of one simple command (a list of tokens)."""
    if tuple(tokens[:2]) in SETUP_COMMANDS or tuple(tokens[:1]) in \
            SETUP_COMMANDS:
        return []
    if 'pip' in tokens and 'install' in tokens:
        expected = readme_command('install')
        return [] if tokens == expected else [
            f'not the README install command {shlex.join(expected)!r}']
    if 'pytest' in tokens:
        expected = readme_command('pytest')
        return [] if tokens == expected else [
            f'not the README test command {shlex.join(expected)!r}']
    if len(tokens) >= 2 and tokens[0] == 'python' and \
            tokens[1].startswith(('tools/', 'benchmarks/')):
        return check_tool_args(tokens[1], tokens[2:])
    if len(tokens) >= 2 and tokens[0] == 'bash' and \
            tokens[1].startswith('tools/'):
        script, args = tokens[1], tokens[2:]
        if script not in SHELL_TOOLS:
            exists = osp.isfile(osp.join(REPO_ROOT, script))
            return [f'{script} does not exist' if not exists else
                    f'{script} has no entry in SHELL_TOOLS of {__file__}']
        spec = SHELL_TOOLS[script]
        args, _ = desynopsis(args)
        n = spec['positional']
        if len(args) < n:
            return [f'{script} takes {n} positional arguments, got '
                    f'{len(args)}']
        problems = [
            f'{script}: argument {i + 1} ({args[i]}) is a number of '
            'processes' for i in spec['numeric']
            if not (args[i].isdigit() or has_placeholder(args[i]))
        ]
        # the script's own positionals may be placeholders
        built = spec['build'](args[:n])
        return problems + check_tool_args(spec['tool'], built + args[n:],
                                          allowed_placeholders=set(built))
    return ['not a tools/ or benchmarks/ script, the README install or '
            'test command, git clone or cd']


def problems_in_markdown(text, name):
    """``name:line: `command`: problem`` for every problem of the
    commands of a Markdown text."""
    problems = []
    for line, command in commands_of_markdown(text):
        try:
            simple = split_commands(command)
        except ValueError as e:
            problems.append(f'{name}:{line}: `{command}`: {e}')
            continue
        for tokens in simple:
            for problem in check_command(tokens):
                problems.append(f'{name}:{line}: `{command}`: {problem}')
    return problems


# -- tests --------------------------------------------------------------------


def test_every_docs_command_is_real():
    problems, count = [], 0
    for path in doc_files():
        with open(path) as f:
            text = f.read()
        count += len(commands_of_markdown(text))
        problems += problems_in_markdown(text,
                                         osp.relpath(path, REPO_ROOT))
    # the README alone has 8 commands; the docs many more
    assert count > 40, count
    assert not problems, '\n'.join(problems)


def test_readme_commands_are_what_ci_runs():
    with open(osp.join(REPO_ROOT, '.ci', 'run')) as f:
        ci = f.read()
    for word in ('install', 'pytest'):
        command = shlex.join(readme_command(word))
        # shlex quotes ".[tests]" as '.[tests]'
        command = command.replace("'.[tests]'", '".[tests]"')
        assert re.search(r'^' + re.escape(command), ci, flags=re.M), command


def test_every_shell_tool_is_in_the_table():
    scripts = sorted(
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'tools', '*.sh')))
    assert scripts == sorted(SHELL_TOOLS)


@pytest.mark.parametrize('script', sorted(SHELL_TOOLS))
def test_shell_tools_table_matches_the_scripts(script):
    spec = SHELL_TOOLS[script]
    with open(osp.join(REPO_ROOT, script)) as f:
        text = f.read()
    assert f'/{osp.basename(spec["tool"])}"' in text
    # the arguments after the positional ones are passed on as they are
    assert '${@:%d}' % (spec['positional'] + 1) in text
    # and the flags the table adds are the script's
    built = spec['build']([f'ARG{i}' for i in range(spec['positional'])])
    for arg in built:
        if arg.startswith('--'):
            assert arg.split('=')[0] in text, arg
    flat = text.replace('"', '')
    for flag in ('--launcher pytorch', '--launcher=slurm'):
        assert (flag in ' '.join(built)) == (flag in flat), flag


def test_extraction_and_synopsis():
    text = '\n'.join([
        'Text.', '', '```bash', '# a comment',
        'python tools/train.py CONFIG \\', '    --resume  # resume',
        'GPUS=16 bash tools/slurm_train.sh P J CONFIG W', '```', '',
        '```', 'python tools/test.py CONFIG CKPT', '```', '',
        '```python', 'python tools/nope.py', '```', '',
        '```text', 'python tools/nope.py', '```'
    ])
    assert commands_of_markdown(text) == [
        (5, 'python tools/train.py CONFIG --resume  # resume'),
        (7, 'GPUS=16 bash tools/slurm_train.sh P J CONFIG W'),
        (11, 'python tools/test.py CONFIG CKPT'),
    ]
    assert split_commands('GPUS=16 bash x.sh A && cd b  # c') == [
        ['bash', 'x.sh', 'A'], ['cd', 'b']]
    assert desynopsis(['CONFIG', '[--work-dir', 'DIR]', '[--resume',
                       '[PATH]]', '[train.py', 'args]', '...']) == (
        ['CONFIG', '--work-dir', 'DIR', '--resume', 'PATH'],
        {'--work-dir', 'DIR', '--resume', 'PATH'})


def test_wrong_commands_are_reported():
    """The check fails on a wrong flag, a missing config, a placeholder
    outside a positional slot, an unknown script and a changed install
    command, naming the file, the line and the command."""
    good = 'configs/quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py'
    text = '\n'.join([
        '# Page', '', '```bash',
        f'python tools/train.py {good} --work-dir work_dirs/x',
        f'python tools/train.py {good} --work-dirr work_dirs/x',
        'python tools/train.py configs/kd/nope.py',
        f'python tools/train.py {good} --work-dir WORK_DIR',
        'python tools/trian.py CONFIG',
        'pip install mmkd',
        'bash tools/dist_train.sh CONFIG eight',
        f'bash tools/dist_train.sh {good} 2 --amp',
        'python tools/analysis/plot_curves.py SCALARS --keyz loss',
        'python benchmarks/distill_step.py --stepz 60',
        'make html',
        '```',
    ])
    problems = problems_in_markdown(text, 'docs/page.md')
    expected = [
        ('docs/page.md:5:', 'unrecognized arguments: --work-dirr'),
        ('docs/page.md:6:', 'configs/kd/nope.py does not exist'),
        ('docs/page.md:7:', 'placeholder WORK_DIR is not a positional'),
        ('docs/page.md:8:', 'tools/trian.py does not exist'),
        ('docs/page.md:9:', 'not the README install command'),
        ('docs/page.md:10:', 'argument 2 (eight) is a number of processes'),
        ('docs/page.md:12:', 'unrecognized arguments: --keyz'),
        ('docs/page.md:13:', 'unrecognized arguments: --stepz'),
        ('docs/page.md:14:', 'not a tools/ or benchmarks/ script'),
    ]
    assert len(problems) == len(expected), '\n'.join(problems)
    for problem, (where, what) in zip(problems, expected):
        assert problem.startswith(where) and what in problem, problem
    assert '`python tools/train.py configs/kd/nope.py`' in problems[1]
