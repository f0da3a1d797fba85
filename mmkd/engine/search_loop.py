"""SearchLoop: DisWOT-style training-free student search as an mmengine loop.

``tools/search.py CONFIG`` builds a runner whose ``model`` is the teacher
and whose ``train_cfg`` is ``dict(type='SearchLoop', space=..., searcher=...,
proxy=...)``; ``runner.train()`` runs the search. Everything the search
leaves is in the work dir:

- ``candidates.jsonl``: one line per scored candidate (name, generation,
  model config, every proxy's score (``scores['score']`` is the searched
  proxy; DisWOT proxies add their ``M_s``/``M_r`` parts), params, FLOPs),
  appended after each finished generation;
- ``search_summary.json``: the best candidate and each generation's scores;
- ``search_scores.png``: the scores of every generation and the best so far;
- ``best_student_kd.py`` (with ``train_template``): a ready-to-train
  distillation config for the best student and the same teacher;
- ``latency.json`` (with ``constraints.max_latency_ms``): every measured
  candidate's latency in ms, reloaded on resume.

Resuming: a re-run with the same work dir reads ``candidates.jsonl`` and
replays the (deterministic) searcher, taking finished candidates' scores
from the file, so it ends with the same result as an uninterrupted run.
Each candidate is built and scored under its own seed (search seed + CRC32
of its name), so its scores do not depend on when or where it runs.

With several processes (``tools/dist_search.sh``) each generation's new
candidates are split across ranks and gathered; the result is the same as
with one process.
"""
import json
import math
import os
import os.path as osp
import random
import time
import zlib
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dist import (all_gather_object, barrier,
                           broadcast_object_list, get_dist_info,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop

from mmkd.registry import LOOPS, PROXIES, SEARCH_SPACES, SEARCHERS
from mmkd.utils.checkpoint import load_model_weights

CANDIDATES = 'candidates.jsonl'
META = 'search_meta.json'
SUMMARY = 'search_summary.json'
PLOT = 'search_scores.png'
BEST_CONFIG = 'best_student_kd.py'
LATENCY = 'latency.json'
CONSTRAINT_KEYS = ('max_params', 'min_params', 'max_flops', 'min_flops',
                   'max_latency_ms', 'latency_batch', 'latency_runs')
LATENCY_WARMUP = 2


def _build(registry, cfg, field):
    registry.import_from_location()
    if not isinstance(cfg, dict) or cfg.get('type') not in \
            registry.module_dict:
        raise KeyError(
            f'{field}: {cfg!r} is not a config of a registered '
            f'{registry.name}; choose a type from '
            f'{sorted(registry.module_dict)}.')
    return registry.build(dict(cfg))


def candidate_seed(seed: int, name: str) -> int:
    """The seed a candidate is built and scored under."""
    return (seed + zlib.crc32(name.encode())) % (2**31)


@LOOPS.register_module()
class SearchLoop(BaseLoop):
    """Score candidates of a space against the runner's model (the teacher).

    Args:
        runner (Runner): The runner; ``runner.model`` is the teacher.
        dataloader (dict | DataLoader): Its dataset gives the one batch of
            ``batch_size`` samples all proxies use (drawn with ``seed``, the
            same on every rank).
        space (dict): A ``SEARCH_SPACES`` config.
        searcher (dict): A ``SEARCHERS`` config; its ``seed`` defaults to
            ``seed``.
        proxy (dict): The ``PROXIES`` config searched on (higher is better).
        extra_proxies (dict, optional): ``{name: proxy config}`` also
            scored and recorded for every candidate.
        teacher_ckpt (str, optional): Teacher weights. None searches with a
            random teacher (training-free, as the paper).
        constraints (dict, optional): Any of ``max_params``, ``min_params``,
            ``max_flops``, ``min_flops`` (FLOPs of one sample counted with
            mmengine's FlopAnalyzer) and ``max_latency_ms``; applied to
            every candidate. Latency is the median time of
            ``latency_runs`` (default 10) forward passes of a
            ``latency_batch`` (default 1) zero batch, in eval mode under
            ``torch.no_grad()``, on the search's device, after
            2 untimed passes. It is measured once per candidate (only when
            the other constraints pass), on rank 0 and broadcast so every
            process accepts the same candidates, saved to ``latency.json``
            (reloaded on resume, so a resumed search makes the same
            decisions) and recorded as ``latency_ms`` in
            ``candidates.jsonl``. Timings depend on the machine and its
            load: a search with a latency limit is only reproducible from
            its ``latency.json``.
        seed (int): Seed of the batch, the candidates and the searcher.
            Defaults to 0.
        train_template (str, optional): A distillation config (e.g. a KD
            config); the best student and this teacher are put into it and
            the result saved as ``best_student_kd.py``. Relative paths are
            tried from the working directory, then from the search config.
        restart (bool): Discard the work dir's earlier results instead of
            resuming from them (``tools/search.py --restart``).
    """

    def __init__(self,
                 runner,
                 dataloader,
                 space: dict,
                 searcher: dict,
                 proxy: dict,
                 extra_proxies: Optional[Dict[str, dict]] = None,
                 teacher_ckpt: Optional[str] = None,
                 constraints: Optional[dict] = None,
                 seed: int = 0,
                 train_template: Optional[str] = None,
                 restart: bool = False) -> None:
        super().__init__(runner, dataloader)
        self.restart = restart
        self.space = _build(SEARCH_SPACES, space, 'train_cfg.space')
        searcher = dict(searcher)
        searcher.setdefault('seed', seed)
        self.searcher = _build(SEARCHERS, searcher, 'train_cfg.searcher')
        self.proxy_name = proxy.get('type') if isinstance(proxy, dict) else \
            None
        self.proxies = {'score': _build(PROXIES, proxy, 'train_cfg.proxy')}
        for key, cfg in (extra_proxies or {}).items():
            if key == 'score':
                raise ValueError("train_cfg.extra_proxies: 'score' is the "
                                 'main proxy; pick another name.')
            self.proxies[key] = _build(PROXIES, cfg,
                                       f'train_cfg.extra_proxies.{key}')
        self.constraints = dict(constraints or {})
        bad = sorted(set(self.constraints) - set(CONSTRAINT_KEYS))
        if bad:
            raise KeyError(f'train_cfg.constraints: unknown keys {bad}; use '
                           f'{CONSTRAINT_KEYS}.')
        self._check_latency_constraints()
        self.teacher_ckpt = teacher_ckpt
        self.seed = seed
        self.train_template = self._find_template(train_template)
        self.fingerprint = json.loads(
            json.dumps(
                dict(space=space, searcher=searcher, proxy=proxy,
                     extra_proxies=extra_proxies, constraints=constraints,
                     seed=seed, teacher_ckpt=teacher_ckpt,
                     teacher=runner.cfg.get('model'),
                     batch_size=self.dataloader.batch_size),
                default=str))
        self.records: Dict[str, dict] = {}
        self.generations: List[dict] = []
        self._costs: Dict[str, tuple] = {}
        self._latency: Dict[str, float] = {}
        self._new = 0
        self._start = None

    # mmengine's hooks and optimiser wrapper read these
    @property
    def max_epochs(self):
        return 1

    @property
    def max_iters(self):
        return 1

    @property
    def epoch(self):
        return 0

    @property
    def iter(self):
        return 0

    def _find_template(self, path):
        if path is None:
            return None
        candidates = [path]
        filename = getattr(self.runner.cfg, 'filename', None)
        if filename and not osp.isabs(path):
            candidates.append(osp.join(osp.dirname(filename), path))
        for p in candidates:
            if osp.isfile(p):
                return osp.abspath(p)
        raise FileNotFoundError(
            f'train_cfg.train_template={path!r} does not exist (tried '
            f'{candidates}).')

    # ---------------------------------------------------------------- data
    def _batch(self):
        dataset = self.dataloader.dataset
        n = self.dataloader.batch_size
        if len(dataset) < n:
            raise ValueError(
                f'the search batch needs {n} samples but the dataset has '
                f'{len(dataset)}; lower train_dataloader.batch_size.')
        rs = np.random.RandomState(self.seed)
        indices = rs.permutation(len(dataset))[:n].tolist()
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        data = self.dataloader.collate_fn([dataset[i] for i in indices])
        data = self._teacher().data_preprocessor(data, False)
        inputs = data['inputs']
        labels = torch.cat([s.gt_label for s in data['data_samples']])
        return inputs, labels

    def _teacher(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def _check_latency_constraints(self) -> None:
        c = self.constraints
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

    # ---------------------------------------------------------------- costs
    def _build_candidate(self, name: str, seed: int):
        from mmkd.models.algorithms import build_classifier
        torch.manual_seed(seed)
        return build_classifier(self.space.to_config(name),
                                f'candidate {name!r}')

    def cost(self, name: str) -> tuple:
        """``(params, flops)`` of a candidate (cached)."""
        if name not in self._costs:
            from mmkd.search.proxies import count_flops, count_params
            model = self._build_candidate(name, 0)
            self._costs[name] = (count_params(model),
                                 count_flops(model, self.input_shape))
        return self._costs[name]

    def measure_latency(self, name: str) -> float:
        """Median ms of ``latency_runs`` timed eval-mode forward passes of
        a ``latency_batch`` zero batch on the search's device."""
        c = self.constraints
        device = self.inputs.device
        with torch.random.fork_rng(devices=[]):
            model = self._build_candidate(name, 0).to(device).eval()
        x = torch.zeros((c.get('latency_batch', 1), ) + self.input_shape,
                        device=device)
        sync = torch.cuda.synchronize if device.type == 'cuda' else (
            lambda: None)
        times = []
        with torch.no_grad():
            for i in range(LATENCY_WARMUP + c.get('latency_runs', 10)):
                sync()
                start = time.perf_counter()
                model(x, mode='tensor')
                sync()
                if i >= LATENCY_WARMUP:
                    times.append((time.perf_counter() - start) * 1000)
        return float(np.median(times))

    def latency(self, name: str) -> float:
        """A candidate's latency in ms: measured once, on rank 0, and
        broadcast; cached in ``latency.json``. Every rank must call it for
        the same names in the same order (the searcher does)."""
        if name not in self._latency:
            value = [None]
            if is_main_process():
                value[0] = self.measure_latency(name)
            if get_dist_info()[1] > 1:
                broadcast_object_list(value, src=0)
            self._latency[name] = round(value[0], 4)
            if is_main_process():
                path = osp.join(self.runner.work_dir, LATENCY)
                with open(path + '.tmp', 'w') as f:
                    json.dump(self._latency, f, indent=0)
                os.replace(path + '.tmp', path)
        return self._latency[name]

    def accept(self, name: str) -> bool:
        """Whether a candidate meets every constraint."""
        if not self.constraints:
            return True
        params, flops = self.cost(name)
        c = self.constraints
        if not (params <= c.get('max_params', math.inf)
                and params >= c.get('min_params', 0)
                and flops <= c.get('max_flops', math.inf)
                and flops >= c.get('min_flops', 0)):
            return False
        return 'max_latency_ms' not in c or \
            self.latency(name) <= c['max_latency_ms']

    # ---------------------------------------------------------------- scoring
    def score_candidate(self, name: str) -> dict:
        """Every proxy's score, params and FLOPs of one candidate."""
        start = time.time()
        seed = candidate_seed(self.seed, name)
        scores = {}
        for key, proxy in self.proxies.items():
            model = self._build_candidate(name, seed)
            torch.manual_seed(seed)
            if hasattr(proxy, 'distances'):  # DisWOT: keep M_s and M_r
                parts = proxy.distances(model, self.inputs, self.labels)
                scores.update({f'{key}.{k}': v for k, v in parts.items()})
                value = -sum(parts.values())
            else:
                value = proxy(model, self.inputs, self.labels)
            if not math.isfinite(value):
                print_log(f'{key} of {name!r} is {value}; recorded as -inf.',
                          logger='current', level=30)
                value = -math.inf
            scores[key] = value
        params, flops = self.cost(name)
        record = dict(name=name, config=self.space.to_config(name),
                      score=scores['score'], scores=scores, params=params,
                      flops=flops)
        if name in self._latency:
            record['latency_ms'] = self._latency[name]
        record['time_s'] = round(time.time() - start, 4)
        return record

    def evaluate(self, names: Sequence[str]) -> List[float]:
        """Score one generation (the searcher's callback)."""
        names = list(names)
        todo = [n for n in dict.fromkeys(names) if n not in self.records]
        if 'max_latency_ms' in self.constraints:
            for n in todo:  # on every rank, before the split
                self.latency(n)
        rank, world = get_dist_info()
        mine = [self.score_candidate(n) for n in todo[rank::world]]
        if world > 1:
            gathered = {
                r['name']: r
                for part in all_gather_object(mine) for r in part
            }
        else:
            gathered = {r['name']: r for r in mine}
        generation = len(self.generations)
        new = []
        for n in todo:
            record = dict(gathered[n], generation=generation)
            self.records[n] = record
            new.append(record)
        if new and is_main_process():
            with open(osp.join(self.runner.work_dir, CANDIDATES), 'a') as f:
                for record in new:
                    f.write(json.dumps(record) + '\n')
                f.flush()
                os.fsync(f.fileno())
        scores = [self.records[n]['score'] for n in names]
        best = self.best()
        self.generations.append(
            dict(generation=generation, names=names, scores=scores,
                 best_name=best['name'], best_score=best['score']))
        self._new += len(new)
        self._progress(generation, len(new))
        return scores

    def best(self) -> dict:
        """The best candidate scored so far (ties: the first scored)."""
        order = list(self.records.values())
        return max(order, key=lambda r: r['score'])

    def _progress(self, generation: int, new: int) -> None:
        done = len(self.records)
        total = max(done, self.searcher.expected_evaluations(self.space))
        elapsed = time.time() - self._start
        eta = elapsed / self._new * max(0, total - done) if self._new else 0
        best = self.best()
        print_log(
            f'search generation {generation}: {done}/{total} candidates '
            f'scored ({new} new), best {best["name"]} score '
            f'{best["score"]:.6g}, elapsed {elapsed:.1f}s, time left '
            f'~{eta:.1f}s ({get_dist_info()[1]} process(es))',
            logger='current')

    # ---------------------------------------------------------------- resume
    def _load_previous(self) -> None:
        work_dir = self.runner.work_dir
        meta_path = osp.join(work_dir, META)
        cand_path = osp.join(work_dir, CANDIDATES)
        latency_path = osp.join(work_dir, LATENCY)
        if self.restart:
            barrier()
            if is_main_process():
                for path in (meta_path, cand_path, latency_path):
                    if osp.isfile(path):
                        os.remove(path)
            barrier()
        if osp.isfile(meta_path):
            with open(meta_path) as f:
                previous = json.load(f)
            if previous != self.fingerprint:
                raise RuntimeError(
                    f'{work_dir} holds a different search ({META} differs '
                    'from this config); use another --work-dir or '
                    'tools/search.py --restart.')
        barrier()
        if is_main_process():
            with open(meta_path, 'w') as f:
                json.dump(self.fingerprint, f, indent=1)
        self._cache: Dict[str, dict] = {}
        if osp.isfile(cand_path):
            with open(cand_path) as f:
                for line in f:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line torn by a kill: rescored
                    self._cache[record['name']] = record
        self.records = {}
        self._latency = {}
        if 'max_latency_ms' in self.constraints and osp.isfile(latency_path):
            with open(latency_path) as f:
                self._latency = {k: float(v) for k, v in json.load(f).items()}
        if self._cache:
            print_log(f'resuming: {len(self._cache)} candidates already '
                      f'scored in {cand_path}', logger='current')

    def _evaluate_cached(self, names):
        for n in dict.fromkeys(names):
            if n in self._cache and n not in self.records:
                self.records[n] = self._cache[n]
        return self.evaluate(names)

    # ---------------------------------------------------------------- run
    def run(self):
        self.runner.call_hook('before_train')
        teacher = self._teacher()
        if self.teacher_ckpt is not None:
            load_model_weights(teacher, self.teacher_ckpt, 'teacher',
                               'train_cfg.teacher_ckpt')
        self.inputs, self.labels = self._batch()
        self.input_shape = tuple(self.inputs.shape[1:])
        for key, proxy in self.proxies.items():
            proxy.check_batch(self.inputs)
            if proxy.needs_teacher:
                torch.manual_seed(self.seed)
                proxy.prepare(teacher, self.inputs, self.labels,
                              teacher_pretrained=self.teacher_ckpt
                              is not None)
        self._load_previous()
        self._start = time.time()
        self.searcher.search(self.space, self._evaluate_cached, self.accept)
        if not self.records:
            raise RuntimeError('the search scored no candidate.')
        if is_main_process():
            self._write_outputs()
        barrier()
        self.runner.call_hook('after_train')
        return self.runner.model

    def _write_outputs(self) -> None:
        work_dir = self.runner.work_dir
        best = self.best()
        summary = dict(
            best=dict(name=best['name'], score=best['score'],
                      scores=best['scores'], params=best['params'],
                      flops=best['flops'], config=best['config']),
            num_scored=len(self.records), proxy=self.proxy_name,
            generations=self.generations)
        if 'latency_ms' in best:
            summary['best']['latency_ms'] = best['latency_ms']
        if self.train_template is not None:
            summary['best_config'] = self.write_best_config(best)
        with open(osp.join(work_dir, SUMMARY), 'w') as f:
            json.dump(summary, f, indent=1)
        plot_search(self.generations, osp.join(work_dir, PLOT),
                    title=f'{self.proxy_name} over the search')
        print_log(
            f'search done: best {best["name"]} (score {best["score"]:.6g}, '
            f'{best["params"]} params, {best["flops"]} FLOPs) of '
            f'{len(self.records)} candidates; results in {work_dir}',
            logger='current')

    def write_best_config(self, best: dict) -> str:
        """Save ``train_template`` with the best student and this teacher."""
        cfg = Config.fromfile(self.train_template)
        if cfg.model.get('type') != 'SingleTeacherDistiller':
            raise ValueError(
                f'train_cfg.train_template={self.train_template!r} is not a '
                'SingleTeacherDistiller config; use a KD or DisWOT config.')
        cfg.model.student = best['config']
        cfg.model.teacher = self.runner.cfg.model.to_dict() if hasattr(
            self.runner.cfg.model, 'to_dict') else dict(self.runner.cfg.model)
        cfg.model.teacher.pop('data_preprocessor', None)
        cfg.model.teacher_ckpt = self.teacher_ckpt
        cfg.pop('work_dir', None)
        path = osp.join(self.runner.work_dir, BEST_CONFIG)
        cfg.dump(path)
        with open(path) as f:
            body = f.read()
        with open(path, 'w') as f:
            f.write(f'# Written by tools/search.py: student {best["name"]!r} '
                    f'(score {best["score"]:.6g}) distilled from the search\'s'
                    f' teacher, recipe from {self.train_template}.\n' + body)
        return path


def plot_search(generations: List[dict], path: str, title: str = '') -> None:
    """Scores of each generation (dots) and the best so far (line)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for g in generations:
        finite = [s for s in g['scores'] if math.isfinite(s)]
        ax.scatter([g['generation']] * len(finite), finite, s=8, c='0.6')
    ax.plot([g['generation'] for g in generations],
            [g['best_score'] for g in generations], 'r-o', ms=3,
            label='best so far')
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel('generation')
    ax.set_ylabel('score (higher is better)')
    ax.set_title(title)
    ax.legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
