"""SearchLoop: DisWOT-style training-free student search as an mmengine loop.

``tools/search.py CONFIG`` builds a :class:`~mmkd.engine.SearchRunner`
whose ``model`` is the teacher and whose ``train_cfg`` is
``dict(type='SearchLoop', space=..., searcher=..., proxy=...)``;
``runner.train()`` runs the search. This file is the loop itself: build
the parts, draw the batch, score candidates (split across processes) and
hand scores to the searcher. What it leaves in the work dir and how a
re-run resumes is in :mod:`mmkd.search.records`; the summary, plot and
best config in :mod:`mmkd.search.outputs`; budgets and latency in
:mod:`mmkd.search.constraints`.

Work dir: ``candidates.jsonl`` (one line per scored candidate: name,
generation, model config, every proxy's score and its parts, params,
FLOPs), ``search_meta.json`` (the fingerprint), ``search_summary.json``,
``search_scores.png``, ``best_student_kd.py`` (with ``train_template``) and
``latency.json`` (with ``constraints.max_latency_ms``).

Resuming: a re-run with the same work dir and the same fingerprint reads
``candidates.jsonl`` and replays the (deterministic) searcher, taking
finished candidates' scores from the file, so it ends with the same result
as an uninterrupted run; a different fingerprint is refused. Each
candidate is built and scored under its own seed (search seed + CRC32 of
its name), so its scores do not depend on when or where it runs. With
several processes (``tools/dist_search.sh``) each generation's new
candidates are split across ranks and gathered: the result is the same as
with one process.

The file is the one ``SearchLoop`` class (about 450 lines, half of
them docstrings): building the parts, the batch, costs, scoring and the
generation callback are the steps of one loop; everything else it used to
do lives in the three modules above.
"""
import math
import os
import os.path as osp
import random
import time
import zlib
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import (all_gather_object, barrier,
                           broadcast_object_list, get_dist_info,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop

from mmkd.registry import LOOPS, PROXIES, SEARCH_SPACES, SEARCHERS
from mmkd.search.constraints import (check_constraints, time_forward,
                                     within_budget)
from mmkd.search.outputs import (load_template, plot_search,
                                 write_best_config, write_summary)
from mmkd.search.records import (CANDIDATES, LATENCY, META, PLOT,
                                 append_records, check_resumable, read_json,
                                 read_records, tensor_sha256, write_json)
from mmkd.search.spaces.base import SearchSpace, measure
from mmkd.utils.checkpoint import load_model_weights
from mmkd.utils.config_paths import resolve_config_path
from mmkd.utils.fingerprint import as_json, file_sha256


def _build(registry, cfg, field):
    registry.import_from_location()
    if not isinstance(cfg, dict) or cfg.get('type') not in \
            registry.module_dict:
        raise KeyError(
            f'{field}: {cfg!r} is not a config of a registered '
            f'{registry.name}; choose a type from '
            f'{sorted(registry.module_dict)}.')
    return registry.build(dict(cfg))


def _dict(cfg):
    """A ConfigDict as a plain dict (None stays None)."""
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg


def _plain(cfg):
    """A config as it reads back from JSON (for fingerprints)."""
    return None if cfg is None else as_json(_dict(cfg))


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
        teacher_ckpt (str, optional): Teacher weights (relative to the
            working directory). None searches with a random teacher
            (training-free, as the paper).
        constraints (dict, optional): Params / FLOPs budgets and a latency
            limit, see :mod:`mmkd.search.constraints`. Latency is measured
            once per candidate (only when the other constraints pass), on
            rank 0 and broadcast so every process accepts the same
            candidates, kept in ``latency.json`` (reloaded on resume) and
            recorded as ``latency_ms``. Timings depend on the machine and
            its load: a search with a latency limit is only reproducible
            from its ``latency.json``.
        seed (int): Seed of the batch, the candidates and the searcher.
            Defaults to 0.
        train_template (str, optional): A distillation config (e.g. a KD
            config); the best student and this teacher are put into it and
            the result saved as ``best_student_kd.py``. A relative path is
            relative to the config file that sets it (mmkd's path rule,
            :mod:`mmkd.utils.config_paths`).
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
            if key == 'score' or '.' in key:
                raise ValueError(
                    f'train_cfg.extra_proxies: {key!r} is not a usable name '
                    "('score' is the main proxy and '.' separates a proxy "
                    'from its parts); pick another name.')
            self.proxies[key] = _build(PROXIES, cfg,
                                       f'train_cfg.extra_proxies.{key}')
        self.constraints = check_constraints(constraints)
        self.teacher_ckpt = teacher_ckpt
        self.seed = seed
        self.train_template = None if train_template is None else \
            resolve_config_path(train_template,
                                getattr(runner.cfg, 'filename', None),
                                ('train_cfg', 'train_template'))
        if self.train_template is not None:
            load_template(self.train_template)  # fail before the search
        # what changes a score; completed with the data in run()
        self.settings = as_json(
            dict(space=space, searcher=searcher, proxy=proxy,
                 extra_proxies=extra_proxies or {},
                 constraints=self.constraints, seed=seed))
        self.records: Dict[str, dict] = {}
        self.generations: List[dict] = []
        self._costs: Dict[str, tuple] = {}
        self._latency: Dict[str, float] = {}
        self._cache: Dict[str, dict] = {}
        self._new = 0
        self._start = None

    # mmengine's hooks read these
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

    # ---------------------------------------------------------------- data
    def _teacher(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

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

    def fingerprint(self) -> dict:
        """Everything that changes a score: the settings, the teacher (its
        config, checkpoint path and the checkpoint's SHA-256), the data
        (dataset, pipeline, preprocessor, batch size, ``num_classes``) and
        the SHA-256 of the scored batch."""
        cfg = self.runner.cfg
        teacher = _plain(cfg.get('model')) or {}
        preprocessor = teacher.pop('data_preprocessor', None) or _plain(
            cfg.get('data_preprocessor'))
        dataset = _plain(cfg.get('train_dataloader', {}).get('dataset')) \
            or {}
        pipeline = dataset.pop('pipeline', None)
        head = getattr(self._teacher(), 'head', None)
        return dict(
            settings=self.settings,
            teacher=dict(model=teacher, checkpoint=self.teacher_ckpt,
                         sha256=file_sha256(self.teacher_ckpt)),
            data=dict(dataset=dataset, pipeline=pipeline,
                      data_preprocessor=preprocessor,
                      batch_size=self.dataloader.batch_size,
                      num_classes=getattr(head, 'num_classes', None),
                      batch_sha256=tensor_sha256(self.inputs, self.labels)))

    # ---------------------------------------------------------------- costs
    def _build_candidate(self, name: str, seed: int):
        from mmkd.models.algorithms import build_classifier
        torch.manual_seed(seed)
        return build_classifier(self.space.to_config(name),
                                f'candidate {name!r}')

    def cost(self, name: str) -> tuple:
        """``(params, flops)`` of a candidate, once per candidate: from the
        space's description where it can say them exactly
        (:meth:`mmkd.search.spaces.base.SearchSpace.cost`: no candidate is
        built), else built and
        counted with mmengine's counter."""
        if name not in self._costs:
            cost = self.space.cost(name, self.input_shape) if isinstance(
                self.space, SearchSpace) else None
            if cost is None:
                cost = measure(self.space.to_config(name), self.input_shape)
            self._costs[name] = tuple(int(c) for c in cost)
        return self._costs[name]

    def measure_latency(self, name: str) -> float:
        """Median ms of timed eval-mode forward passes of a zero batch on
        the search's device (:func:`mmkd.search.constraints.time_forward`).
        """
        c = self.constraints
        with torch.random.fork_rng(devices=[]):
            model = self._build_candidate(name, 0)
        return time_forward(model, self.input_shape, self.inputs.device,
                            c.get('latency_batch', 1),
                            c.get('latency_runs', 10))

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
                write_json(osp.join(self.runner.work_dir, LATENCY),
                           self._latency, indent=0)
        return self._latency[name]

    def accept(self, name: str) -> bool:
        """Whether a candidate meets every constraint."""
        if not self.constraints:
            return True
        if not within_budget(*self.cost(name), self.constraints):
            return False
        return 'max_latency_ms' not in self.constraints or \
            self.latency(name) <= self.constraints['max_latency_ms']

    # ---------------------------------------------------------------- scoring
    def score_candidate(self, name: str) -> dict:
        """Every proxy's score (and its parts, as ``'<key>.<part>'``, all
        higher-is-better), params and FLOPs of one candidate."""
        start = time.time()
        seed = candidate_seed(self.seed, name)
        scores = {}
        for key, proxy in self.proxies.items():
            model = self._build_candidate(name, seed)
            torch.manual_seed(seed)
            value, parts = proxy.evaluate(model, self.inputs, self.labels,
                                          copy_model=False)
            scores.update({f'{key}.{k}': v for k, v in parts.items()})
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
        """Score one generation (the searcher's callback); candidates
        scored by an earlier run of this search are taken from its file."""
        names = list(names)
        for n in dict.fromkeys(names):
            if n in self._cache and n not in self.records:
                self.records[n] = self._cache[n]
        todo = [n for n in dict.fromkeys(names) if n not in self.records]
        if 'max_latency_ms' in self.constraints:
            for n in todo:  # on every rank, before the split
                self.latency(n)
        rank, world = get_dist_info()
        mine = [self.score_candidate(n) for n in todo[rank::world]]
        parts = all_gather_object(mine) if world > 1 else [mine]
        gathered = {r['name']: r for part in parts for r in part}
        generation = len(self.generations)
        new = []
        for n in todo:
            self.records[n] = dict(gathered[n], generation=generation)
            new.append(self.records[n])
        if new and is_main_process():
            append_records(osp.join(self.runner.work_dir, CANDIDATES), new)
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
        return max(self.records.values(), key=lambda r: r['score'])

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
        """Check the work dir's fingerprint, write ours, read its records."""
        work_dir = self.runner.work_dir
        paths = [osp.join(work_dir, f) for f in (META, CANDIDATES, LATENCY)]
        if self.restart:
            barrier()
            for path in paths if is_main_process() else ():
                if osp.isfile(path):
                    os.remove(path)
        barrier()
        fingerprint = as_json(self.fingerprint())
        check_resumable(work_dir, fingerprint)
        barrier()
        if is_main_process():
            write_json(paths[0], fingerprint)
            self._cache = read_records(paths[1])
        barrier()
        if not is_main_process():
            self._cache = read_records(paths[1], repair=False)
        self.records = {}
        self._latency = {}
        if 'max_latency_ms' in self.constraints and osp.isfile(paths[2]):
            self._latency = {
                k: float(v)
                for k, v in read_json(paths[2]).items()
            }
        if self._cache:
            print_log(f'resuming: {len(self._cache)} candidates already '
                      f'scored in {paths[1]}', logger='current')

    # ---------------------------------------------------------------- run
    def run(self):
        self.runner.call_hook('before_train')
        teacher = self._teacher()
        if self.teacher_ckpt is not None:
            load_model_weights(teacher, self.teacher_ckpt, 'teacher',
                               'train_cfg.teacher_ckpt')
        self.inputs, self.labels = self._batch()
        self.input_shape = tuple(self.inputs.shape[1:])
        for proxy in self.proxies.values():
            proxy.check_batch(self.inputs)
            if proxy.needs_teacher:
                torch.manual_seed(self.seed)
                proxy.prepare(teacher, self.inputs, self.labels,
                              teacher_pretrained=self.teacher_ckpt
                              is not None)
        self._load_previous()
        self._start = time.time()
        self.searcher.search(self.space, self.evaluate, self.accept)
        if not self.records:
            raise RuntimeError(
                'the search scored no candidate: no candidate met '
                f'train_cfg.constraints={self.constraints}; relax them.')
        if is_main_process():
            self._write_outputs()
        barrier()
        self.runner.call_hook('after_train')
        return self.runner.model

    def _write_outputs(self) -> None:
        work_dir = self.runner.work_dir
        best = self.best()
        best_config = None
        if self.train_template is not None:
            best_config = write_best_config(
                work_dir, self.train_template, best,
                _dict(self.runner.cfg.model), self.teacher_ckpt)
        write_summary(work_dir, best, len(self.records), self.proxy_name,
                      self.generations, best_config)
        plot_search(self.generations, osp.join(work_dir, PLOT),
                    title=f'{self.proxy_name} over the search')
        print_log(
            f'search done: best {best["name"]} (score {best["score"]:.6g}, '
            f'{best["params"]} params, {best["flops"]} FLOPs) of '
            f'{len(self.records)} candidates; results in {work_dir}',
            logger='current')
