"""Search constraints: params / FLOPs budgets and a latency limit.

``train_cfg.constraints`` takes any of ``max_params``, ``min_params``,
``max_flops``, ``min_flops`` (FLOPs of one sample, mmengine's counter) and
``max_latency_ms`` (with ``latency_batch``, default 1, and
``latency_runs``, default 10). Latency is the median time of
``latency_runs`` eval-mode forward passes of a zero batch under
``torch.no_grad()``, after ``LATENCY_WARMUP`` untimed passes.
"""
import math
import time
from typing import Dict

import numpy as np
import torch
import torch.nn as nn

CONSTRAINT_KEYS = ('max_params', 'min_params', 'max_flops', 'min_flops',
                   'max_latency_ms', 'latency_batch', 'latency_runs')
LATENCY_WARMUP = 2


def check_constraints(constraints: Dict) -> dict:
    """Validate ``train_cfg.constraints``; returns a plain dict."""
    c = dict(constraints or {})
    bad = sorted(set(c) - set(CONSTRAINT_KEYS))
    if bad:
        raise KeyError(f'train_cfg.constraints: unknown keys {bad}; use '
                       f'{CONSTRAINT_KEYS}.')
    for key in ('max_params', 'min_params', 'max_flops', 'min_flops'):
        if key in c and (isinstance(c[key], bool)
                         or not isinstance(c[key], (int, float))
                         or c[key] < 0):
            raise ValueError(f'train_cfg.constraints.{key} = {c[key]!r} must '
                             'be a number >= 0.')
    for key in ('latency_batch', 'latency_runs'):
        if key in c and 'max_latency_ms' not in c:
            raise ValueError(
                f'train_cfg.constraints.{key} is set without '
                'max_latency_ms; add max_latency_ms or remove it.')
        if key in c and (not isinstance(c[key], int)
                         or isinstance(c[key], bool) or c[key] < 1):
            raise ValueError(f'train_cfg.constraints.{key} = '
                             f'{c[key]!r} must be an integer >= 1.')
    limit = c.get('max_latency_ms')
    if limit is not None and (isinstance(limit, bool) or not isinstance(
            limit, (int, float)) or not limit > 0):
        raise ValueError(f'train_cfg.constraints.max_latency_ms = '
                         f'{limit!r} must be a positive number of ms.')
    return c


def within_budget(params: int, flops: int, c: dict) -> bool:
    """Whether ``params`` and ``flops`` meet the params / FLOPs budgets."""
    return (c.get('min_params', 0) <= params <= c.get('max_params', math.inf)
            and c.get('min_flops', 0) <= flops <= c.get('max_flops',
                                                         math.inf))


def time_forward(model: nn.Module, input_shape: tuple, device,
                 batch: int = 1, runs: int = 10) -> float:
    """Median ms of ``runs`` timed eval-mode forward passes of a zero
    batch (after ``LATENCY_WARMUP`` untimed ones)."""
    model = model.to(device).eval()
    x = torch.zeros((batch, ) + tuple(input_shape), device=device)
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' \
        else (lambda: None)
    times = []
    with torch.no_grad():
        for i in range(LATENCY_WARMUP + runs):
            sync()
            start = time.perf_counter()
            model(x, mode='tensor')
            sync()
            if i >= LATENCY_WARMUP:
                times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))
