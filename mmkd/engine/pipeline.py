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
checkpoint. A finished stage writes ``stage_done.json`` (its checkpoint,
final metrics and wall time); running the pipeline again skips it. A stage
that was interrupted resumes from its last checkpoint.
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
from mmkd.registry import RUNNERS

DONE_FILE = 'stage_done.json'


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
        cfg = Config.fromfile(path)
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
    # Build every stage config first: a typo in stage 3 must not surface
    # after stages 1 and 2 have trained for hours.
    placeholder = {s['name']: f'<{s["name"]}>' for s in stages}
    for stage in stages:
        _stage_config(stage, base_dir, placeholder, overrides)

    outputs: Dict[str, str] = {}
    summaries = []
    for stage in stages:
        name = stage['name']
        stage_dir = osp.join(work_dir, name)
        done_path = osp.join(stage_dir, DONE_FILE)
        if osp.isfile(done_path):
            with open(done_path) as f:
                done = json.load(f)
            if osp.isfile(done.get('checkpoint', '')):
                log(f'[pipeline] stage {name!r} already finished; skipping '
                    f"(delete {done_path} to run it again).")
                outputs[name] = done['checkpoint']
                summaries.append(dict(done, name=name, skipped=True))
                continue
        stage_cfg = _stage_config(stage, base_dir, outputs, overrides)
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
