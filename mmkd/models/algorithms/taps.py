"""Feature taps: record module outputs (or inputs) by module path.

A tap is one config line, ``name='student.backbone.layer3'``: the output of
that module in the distiller, recorded by a forward hook on every forward.
Append ``:input`` to record the module's first input instead, e.g.
``'student.head.fc:input'`` for the pooled feature a linear head sees.
"""
import contextlib
import difflib
from typing import Dict, List

import torch.nn as nn


def nearest(name: str, choices: List[str], n: int = 5) -> str:
    """The closest valid choices, formatted for an error message."""
    close = difflib.get_close_matches(name, choices, n=n, cutoff=0.4)
    if not close:
        close = choices[:n]
    return ', '.join(repr(c) for c in close)


class FeatureTaps:
    """Records named module outputs of a root module during forward.

    Args:
        root (nn.Module): The module the paths start from (the distiller).
        taps (dict[str, str]): ``{name: 'path.to.module[:input]'}``.
        allowed_prefixes (tuple[str]): First path components a tap may use,
            e.g. ``('student', 'teacher')``.

    Raises:
        ValueError: A path does not name a module; the message lists the
            nearest valid paths.
    """

    def __init__(self, root: nn.Module, taps: Dict[str, str],
                 allowed_prefixes=('student', 'teacher')) -> None:
        self.records: Dict[str, object] = {}
        self.active = False
        self.paths = dict(taps)
        self._handles = []
        modules = dict(root.named_modules())
        for name, spec in self.paths.items():
            if not isinstance(spec, str):
                raise TypeError(f'taps.{name} must be a module path string '
                                f"like 'student.backbone.layer3', got {spec!r}.")
            path, _, what = spec.partition(':')
            if what not in ('', 'input', 'output'):
                raise ValueError(f"taps.{name}: {spec!r} ends in ':{what}'; "
                                 "use ':input' or nothing (the output).")
            if path.split('.')[0] not in allowed_prefixes:
                raise ValueError(
                    f'taps.{name}: {spec!r} must start with one of '
                    f'{allowed_prefixes}, e.g. '
                    f"'{allowed_prefixes[0]}.backbone.layer3'.")
            if path not in modules:
                prefix = path.split('.')[0]
                valid = [m for m in modules if m.startswith(prefix + '.')]
                raise ValueError(
                    f'taps.{name}: no module {path!r}; nearest valid paths: '
                    f'{nearest(path, valid)}.')
            hook = self._make_hook(name, spec, what == 'input')
            self._handles.append(modules[path].register_forward_hook(hook))

    def _make_hook(self, name: str, spec: str, record_input: bool):

        def hook(module, args, output):
            if not self.active:
                return
            if name in self.records:
                raise RuntimeError(
                    f'taps.{name}: {spec!r} ran twice in one forward (a '
                    'module reused inside its parent); tap the parent block '
                    'or a module that runs once.')
            self.records[name] = args[0] if record_input else output

        return hook

    @contextlib.contextmanager
    def recording(self):
        """Record during this block only (not in validation or predict)."""
        self.records.clear()
        self.active = True
        try:
            yield self.records
        finally:
            self.active = False

    def clear(self) -> None:
        self.records.clear()

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
