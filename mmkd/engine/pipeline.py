"""Multi-stage pipelines: one config chains several training runs.

A pipeline config has a ``stages`` list instead of a model::

    stages = [
        dict(name='teacher', config='../cifar_models/resnet56_1xb64_cifar100.py'),
        dict(name='kd', config='kd_resnet56_resnet20_1xb64_cifar100.py',
             cfg_options={'model.teacher_ckpt': '{teacher}'}),
    ]

Each stage is an ordinary config (a path relative to the pipeline file, or
an inline dict) run by its own runner in ``<work_dir>/<name>``. In
``cfg_options`` values, ``{stage}`` is replaced by that earlier stage's final
checkpoint. Before the first stage starts, every stage's model is built
(with ``None`` for checkpoints that earlier stages will write) and its data
paths checked. A stage records the settings it runs with
(``stage_settings.json``); a finished stage writes ``stage_done.json`` (its
checkpoint, final metrics and wall time) and running the pipeline again
skips it, with the same settings. A stage that was interrupted resumes from
its last checkpoint. A re-run whose settings differ from a recorded stage's
is refused before anything trains, naming what changed.
"""
import json
import os
import os.path as osp
import re
import time
from typing import Dict, List

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.utils import import_modules_from_strings

from mmkd.registry import MODELS, RUNNERS
from mmkd.utils.checkpoint import weights_loaded_later
from mmkd.utils.config_checks import check_data_paths, read_config

DONE_FILE = 'stage_done.json'
SETTINGS_FILE = 'stage_settings.json'
# set by the pipeline itself, not settings of a stage
_NOT_SETTINGS = ('work_dir', 'resume', 'load_from', 'launcher')


class _FinalMetrics(Hook):
    """Remembers the metrics of the last validation."""

    priority = 'LOWEST'

    def __init__(self):
        self.metrics = {}

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = {k: float(v) for k, v in (metrics or {}).items()}


def check_stages(cfg: Config) -> List[dict]:
    """Validate ``cfg.stages`` before any stage runs."""
    stages = cfg.get('stages')
    if not isinstance(stages, (list, tuple)) or not stages:
        raise ValueError('stages must be a non-empty list of '
                         "dict(name=..., config=...).")
    names = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict) or 'name' not in stage or \
                'config' not in stage:
            raise ValueError(f'stages[{i}] must be dict(name=..., config=...)'
                             f', got {stage!r}.')
        name = stage['name']
        if not re.fullmatch(r'[A-Za-z0-9_\-]+', name) or name in names:
            raise ValueError(f'stages[{i}].name={name!r} must be unique and '
                             'use letters, digits, _ or - only.')
        unknown = set(stage) - {'name', 'config', 'cfg_options'}
        if unknown:
            raise ValueError(f'stages[{i}] has unknown keys {sorted(unknown)}'
                             "; use 'name', 'config', 'cfg_options'.")
        for key, value in (stage.get('cfg_options') or {}).items():
            for ref in re.findall(r'\{([^{}]+)\}', str(value)):
                if ref not in names:
                    raise ValueError(
                        f'stages[{i}].cfg_options.{key} refers to '
                        f'{{{ref}}}, which is not an earlier stage; earlier '
                        f'stages: {names}.')
        names.append(name)
    return list(stages)


def _stage_config(stage: dict, base_dir: str, outputs: Dict[str, str],
                  overrides: dict) -> Config:
    config = stage['config']
    if isinstance(config, str):
        path = config if osp.isabs(config) else osp.join(base_dir, config)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f"stage {stage['name']!r}: config {config!r} not found (looked "
                f'at {path}); paths are relative to the pipeline config.')
        try:
            cfg = read_config(path, f"stage {stage['name']!r}: config")
        except SyntaxError as e:
            raise SyntaxError(f"stage {stage['name']!r}: {e}") from None
    else:
        cfg = Config(dict(config))
    options = {}
    for key, value in (stage.get('cfg_options') or {}).items():
        if isinstance(value, str):
            value = value.format(**outputs)
        options[key] = value
    options.update(overrides)
    cfg.merge_from_dict(options)
    return cfg


def _without_placeholders(value, placeholders):
    """``value`` with every string naming a later checkpoint set to None."""
    if isinstance(value, dict):
        return {k: _without_placeholders(v, placeholders)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_without_placeholders(v, placeholders)
                           for v in value)
    if isinstance(value, str) and any(p in value for p in placeholders):
        return None
    return value


def _check_stage(name: str, cfg: Config, placeholders) -> None:
    """Build a stage's model and check its data paths, before any stage
    runs: a misspelt loss type, a tap on a module that does not exist or a
    missing data root in the last stage fails now, not after the teacher
    has trained."""
    try:
        check_data_paths(cfg)
        if cfg.get('custom_imports'):
            import_modules_from_strings(**cfg.custom_imports)
        if cfg.get('model') is None:
            return
        model_cfg = _without_placeholders(cfg.model.to_dict(), placeholders)
        with DefaultScope.overwrite_default_scope('mmkd'), \
                weights_loaded_later():
            MODELS.build(model_cfg)
    except (KeyError, ValueError, TypeError, RuntimeError, AttributeError,
            FileNotFoundError) as e:
        message = e.args[0] if len(e.args) == 1 and isinstance(
            e.args[0], str) else str(e)
        try:
            error = type(e)(f'stage {name!r}: {message}')
        except Exception:  # an exception type with other arguments
            raise e
        raise error from None


def _settings(cfg: Config) -> Dict[str, str]:
    """A stage config as flat ``{dotted key: value text}``."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key in value:
                walk(f'{prefix}{key}.', value[key])
        else:
            flat[prefix[:-1]] = json.dumps(value, sort_keys=True,
                                           default=_stable_repr)

    cfg_dict = cfg.to_dict()
    for key in _NOT_SETTINGS:
        cfg_dict.pop(key, None)
    walk('', cfg_dict)
    return flat


def _stable_repr(value) -> str:
    """``repr`` without memory addresses (a class or function given as a
    ``type`` must compare equal across runs)."""
    if isinstance(value, type) or callable(value):
        return f'{getattr(value, "__module__", "")}.' \
            f'{getattr(value, "__qualname__", repr(value))}'
    return re.sub(r' at 0x[0-9a-fA-F]+', '', repr(value))


def _changes(old: Dict[str, str], new: Dict[str, str]) -> List[str]:
    keys = sorted(set(old) | set(new))
    return [f'{k}: {old.get(k, "unset")} -> {new.get(k, "unset")}'
            for k in keys if old.get(k) != new.get(k)]


def _check_settings(name: str, stage_dir: str, settings: dict,
                    finished: bool, log=print) -> None:
    """Refuse to reuse a finished stage that ran with other settings; note
    the changes of an interrupted one that resumes."""
    path = osp.join(stage_dir, SETTINGS_FILE)
    if not osp.isfile(path):
        return
    with open(path) as f:
        old = json.load(f)
    changes = _changes(old, settings)
    if not changes:
        return
    shown = '; '.join(changes[:3]) + (
        f' (and {len(changes) - 3} more)' if len(changes) > 3 else '')
    if not finished:
        log(f'[pipeline] stage {name!r} resumes with changed settings: '
            f'{shown}.')
    else:
        raise RuntimeError(
            f'stage {name!r} in {stage_dir} finished with other settings '
            f'({shown}): to run it again with the new ones, delete that '
            'folder and the later stages\' folders (or pass another '
            '--work-dir); to reuse it, run with the settings it had.')


def _final_checkpoint(work_dir: str) -> str:
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise RuntimeError(f'{work_dir} has no last_checkpoint after '
                           'training; keep a CheckpointHook with '
                           'save_last=True in the stage config.')
    with open(marker) as f:
        return f.read().strip()


def run_pipeline(cfg: Config, overrides: dict = None, runner_type=None,
                 log=print) -> List[dict]:
    """Run every stage of a pipeline config in order.

    Args:
        cfg (Config): The pipeline config (has ``stages`` and ``work_dir``).
        overrides (dict): Options merged into every stage config after its
            own ``cfg_options`` (e.g. from ``--cfg-options`` or ``--amp``).
        runner_type (str, optional): Runner for stages that set none.
        log (callable): Where progress lines go.

    Returns:
        list[dict]: One summary per stage: name, checkpoint, metrics,
        wall_time_s, skipped.
    """
    stages = check_stages(cfg)
    work_dir = cfg.get('work_dir')
    if not work_dir:
        raise ValueError('a pipeline needs work_dir (set it in the config '
                         'or pass --work-dir).')
    base_dir = osp.dirname(osp.abspath(cfg.filename)) if cfg.filename \
        else os.getcwd()
    overrides = dict(overrides or {})
    # Build every stage config and model first: a typo in stage 3 must not
    # surface after stages 1 and 2 have trained for hours.
    placeholder = {s['name']: f'<output of stage {s["name"]}>'
                   for s in stages}
    for stage in stages:
        _check_stage(stage['name'],
                     _stage_config(stage, base_dir, placeholder, overrides),
                     list(placeholder.values()))

    # Finished stages are reused only with the settings they ran with, and
    # only if every stage before them is finished too; all checked here,
    # before anything trains.
    finished: Dict[str, dict] = {}
    outputs: Dict[str, str] = {}
    pending = None
    for stage in stages:
        name = stage['name']
        stage_dir = osp.join(work_dir, name)
        done = _read_done(stage_dir)
        if done is not None and pending is None:
            cfg_now = _stage_config(stage, base_dir, outputs, overrides)
            _check_settings(name, stage_dir, _settings(cfg_now), True)
        if done is None:
            pending = pending or name
            continue
        if pending is not None:
            raise RuntimeError(
                f'stage {name!r} finished but the earlier stage {pending!r} '
                f'has not (its folder was removed, or it stopped), so '
                f'{name!r} may rest on outputs that will change: delete '
                f'{stage_dir} to run it again.')
        finished[name] = done
        outputs[name] = done['checkpoint']

    outputs = {}
    summaries = []
    for stage in stages:
        name = stage['name']
        stage_dir = osp.join(work_dir, name)
        done_path = osp.join(stage_dir, DONE_FILE)
        if name in finished:
            done = finished[name]
            log(f'[pipeline] stage {name!r} already finished with the same '
                f'settings; skipping (delete {stage_dir} to run it again).')
            outputs[name] = done['checkpoint']
            summaries.append(dict(done, name=name, skipped=True))
            continue
        stage_cfg = _stage_config(stage, base_dir, outputs, overrides)
        settings = _settings(stage_cfg)
        _check_settings(name, stage_dir, settings, False, log)
        if is_main_process():
            os.makedirs(stage_dir, exist_ok=True)
            with open(osp.join(stage_dir, SETTINGS_FILE), 'w') as f:
                json.dump(settings, f, indent=1, sort_keys=True)
        stage_cfg.work_dir = stage_dir
        # an interrupted stage continues from its last checkpoint
        if osp.isfile(osp.join(stage_dir, 'last_checkpoint')):
            stage_cfg.resume = True
            stage_cfg.load_from = None
            log(f'[pipeline] stage {name!r}: resuming from its last '
                'checkpoint.')
        log(f'[pipeline] stage {name!r} starts in {stage_dir}')
        runner_name = stage_cfg.get('runner_type', runner_type)
        runner_cls = RUNNERS.get(runner_name) if runner_name else None
        if runner_cls is None:
            raise KeyError(f'runner_type {runner_name!r} is not registered.')
        start = time.perf_counter()
        runner = runner_cls.from_cfg(stage_cfg)
        metrics_hook = _FinalMetrics()
        runner.register_hook(metrics_hook)
        runner.train()
        wall = time.perf_counter() - start
        checkpoint = _final_checkpoint(stage_dir)
        done = dict(checkpoint=checkpoint, metrics=metrics_hook.metrics,
                    wall_time_s=round(wall, 1))
        if is_main_process():
            with open(done_path, 'w') as f:
                json.dump(done, f, indent=2)
        outputs[name] = checkpoint
        summaries.append(dict(done, name=name, skipped=False))
    return summaries


def _read_done(stage_dir: str):
    """The stage's ``stage_done.json``, if it names an existing file."""
    path = osp.join(stage_dir, DONE_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        done = json.load(f)
    return done if osp.isfile(done.get('checkpoint', '')) else None


def format_summary(summaries: List[dict], metric: str = None) -> str:
    """A plain-text table of the stages' final metric and wall time."""
    if metric is None:
        keys = [k for s in summaries for k in s['metrics']]
        metric = next((k for k in keys if 'top1' in k), keys[0] if keys
                      else None)
    rows = [('stage', metric or 'metric', 'wall time (s)')]
    for s in summaries:
        value = s['metrics'].get(metric)
        rows.append((s['name'], '-' if value is None else f'{value:.2f}',
                     f"{s['wall_time_s']:.1f}" + (' (earlier run)'
                                                  if s['skipped'] else '')))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)


__all__ = ['run_pipeline', 'check_stages', 'format_summary']
