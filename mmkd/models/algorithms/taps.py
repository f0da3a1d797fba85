"""Feature taps: record module outputs (or inputs) by module path.

A tap is one config line, ``name='student.backbone.layer3'``: the output of
that module in the distiller, recorded by a forward hook on every forward.
Append ``:input`` to record the module's first input instead, e.g.
``'student.head.fc:input'`` for the pooled feature a linear head sees.
Append ``:preact`` to a residual block to record its output *before* its
final ReLU (the input of the last call of a ReLU that is a direct child of
the block), e.g. ``'teacher.backbone.layer4.1:preact'`` on mmpretrain's
ResNet, whose blocks call one in-place ``relu`` twice: no module's output
is the pre-activation there, and no patching of the backbone is needed.
"""
import contextlib
import difflib
from typing import Dict, List

import torch
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
            if what not in ('', 'input', 'output', 'preact'):
                raise ValueError(f"taps.{name}: {spec!r} ends in ':{what}'; "
                                 "use ':input', ':preact' or nothing (the "
                                 'output).')
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
            if what == 'preact':
                self._add_preact_tap(name, spec, modules[path])
                continue
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

    def _add_preact_tap(self, name: str, spec: str, block: nn.Module) -> None:
        """Record the input of the last direct-child ReLU call of ``block``.

        The input is cloned before the ReLU runs (it may be in-place, as in
        mmpretrain's blocks); the first record checks that the block's
        output is that ReLU of it, so a block ending in something else
        (a pre-activation WRN block) is an error, not a wrong feature.
        """
        relus = [m for m in block.children() if isinstance(m, nn.ReLU)]
        if not relus:
            children = [n for n, _ in block.named_children()]
            raise ValueError(
                f"taps.{name}: {spec!r}: ':preact' needs a block with an "
                f'nn.ReLU child (its final activation), but its children '
                f'are {children}; tap the norm layer before the ReLU instead.')
        state = dict(running=False, last=None, checked=False)

        def block_pre(module, args):
            state['running'], state['last'] = True, None

        def relu_pre(module, args):
            if state['running'] and self.active:
                state['last'] = args[0].clone()

        def block_post(module, args, output):
            state['running'] = False
            if not self.active:
                return
            last, state['last'] = state['last'], None
            if not state['checked']:
                if (last is None or not isinstance(output, torch.Tensor)
                        or last.shape != output.shape or not torch.equal(
                            output.detach(), last.detach().clamp(min=0))):
                    raise ValueError(
                        f"taps.{name}: {spec!r}: the block's output is not "
                        'the ReLU of its last ReLU input (the block does '
                        "not end in a ReLU); tap the norm layer before the "
                        'next ReLU instead.')
                state['checked'] = True
            if name in self.records:
                raise RuntimeError(
                    f'taps.{name}: {spec!r} ran twice in one forward; tap a '
                    'block that runs once.')
            self.records[name] = last

        self._handles.append(block.register_forward_pre_hook(block_pre))
        for relu in relus:
            self._handles.append(relu.register_forward_pre_hook(relu_pre))
        self._handles.append(block.register_forward_hook(block_post))

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
