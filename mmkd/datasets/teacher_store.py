"""A replayable teacher soft-label store (FKD: Shen & Xing, "A Fast
Knowledge Distillation Framework for Visual Recognition", ECCV 2022).

A frozen teacher repeats the same forward every epoch of knowledge
distillation. The store runs it once: for every training sample and each of
``views`` augmented views (one per epoch; a longer run cycles through them)
it keeps the random parameters the pipeline drew (crop box, flip) and the
teacher's logits. Training then *replays* each stored view through the
``Replay*`` transforms (:mod:`mmkd.datasets.transforms.replay`) and reads
the teacher's logits instead of running the teacher.

Layout of a store directory::

    manifest.json              what the store was built from (below)
    shard_00000/params.npy     int32 [n, views, P]: the drawn parameters
    shard_00000/logits.npy     float16 [n, views, C]            (topk=None)
    shard_00000/topk_values.npy   float16 [n, views, k]          (topk=k)
    shard_00000/topk_indices.npy  int16/int32 [n, views, k]
    shard_00000/rest_mass.npy     float32 [n, views]: softmax mass (T=1)
                                  of the other C - k classes

Shard ``s`` holds samples ``[s * shard_size, (s + 1) * shard_size)``; a
shard exists once complete (written as ``*.tmp-r<rank>`` and renamed), so
an interrupted build resumes by skipping finished shards, and several
processes build one store by taking every ``world_size``-th shard.
Arrays are ``.npy`` files read as numpy memmaps.

The manifest records the teacher (its model config, checkpoint path and
sha256), the dataset config, the pipeline, the seed, ``views``, ``topk``
and the layout. Using a store with another teacher, dataset, pipeline or
seed is refused with one sentence naming what differs.

View ``v`` of sample ``i`` is drawn with numpy's global generator seeded
by ``(seed, v, i)``, so a store is the same whoever builds which shard.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.logging import print_log

from mmkd.registry import DATA_SAMPLERS, DATASETS
from mmkd.utils.fingerprint import as_json, file_sha256
from .transforms.replay import (ReplayRandomCrop, ReplayRandomFlip,
                                ReplayRandomResizedCrop)

__all__ = [
    'TeacherStore', 'TeacherStoreDataset', 'TeacherStoreSampler',
    'replay_pipeline', 'write_teacher_store', 'store_topk',
    'check_manifest'
]

FORMAT = 1
MANIFEST = 'manifest.json'
# random transforms of mmkd's base configs, and their replaying versions
REPLAYABLE = {
    'RandomCrop': ReplayRandomCrop,
    'RandomResizedCrop': ReplayRandomResizedCrop,
    'RandomFlip': ReplayRandomFlip,
}
# transforms that draw nothing and so replay as they are
DETERMINISTIC = ('LoadImageFromFile', 'PackInputs', 'Resize', 'ResizeEdge',
                 'CenterCrop', 'ToNumpy', 'Transpose', 'ImageToTensor',
                 'PILToNumpy', 'NumpyToPIL')


def replay_pipeline(pipeline: Sequence[dict]
                    ) -> Tuple[List[dict], List[Tuple[str, int]]]:
    """The replaying version of a pipeline config.

    Returns:
        tuple: the pipeline with each random transform replaced by its
        ``Replay*`` class (``step`` = its position), and ``[(step, number
        of parameters)]`` in pipeline order.

    Raises:
        ValueError: a step is neither replayable nor known to draw nothing.
    """
    out, steps = [], []
    for i, t in enumerate(pipeline):
        t = dict(t)
        kind = t.get('type')
        if kind in REPLAYABLE:
            cls = REPLAYABLE[kind]
            t.update(type=cls.__name__, step=str(i))
            steps.append((str(i), len(cls.PARAMS)))
        elif kind not in DETERMINISTIC:
            raise ValueError(
                f'pipeline step {i} ({kind!r}) is not one the teacher store '
                f'can replay ({sorted(REPLAYABLE)}) or known to draw nothing '
                f'({list(DETERMINISTIC)}); use online KD for this pipeline.')
        out.append(t)
    return out, steps


def _dataset_cfg(cfg: dict, field: str) -> Tuple[dict, list]:
    cfg = as_json(cfg)
    if not isinstance(cfg, dict) or 'pipeline' not in cfg:
        raise ValueError(
            f'{field} must be the config of a dataset with a `pipeline` '
            '(e.g. the train_dataloader.dataset of a KD config).')
    pipeline = cfg.pop('pipeline')
    return cfg, pipeline


def _build_replay_dataset(cfg: dict, field: str):
    cfg, pipeline = _dataset_cfg(cfg, field)
    replay, steps = replay_pipeline(pipeline)
    return DATASETS.build(dict(cfg, pipeline=replay)), cfg, pipeline, steps


def check_manifest(manifest: dict, root: str, what: str, **expected) -> None:
    """Refuse a store built from something else.

    Args:
        manifest (dict): The store's manifest.
        root (str): The store directory, for the message.
        what (str): Who checks, for the message (a config field or flag).
        **expected: manifest keys (``teacher``, ``dataset``, ``pipeline``,
            ``seed``, ...) and the values this use needs.

    Raises:
        ValueError: naming the first key that differs.
    """
    expected = as_json(expected)
    for key, want in expected.items():
        if manifest.get(key) != want:
            raise ValueError(
                f'{what}: teacher store {root} was built with another {key} '
                f'({manifest.get(key)!r}, this config has {want!r}); rebuild '
                'it with tools/build_teacher_store.py or use another store.')


class TeacherStore:
    """Read a teacher store (see the module docstring for the layout).

    Args:
        root (str): The store directory.
    """

    def __init__(self, root: str) -> None:
        path = osp.join(root, MANIFEST)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{root} is not a teacher store (no {MANIFEST}); build it '
                'with tools/build_teacher_store.py CONFIG --out DIR.')
        with open(path) as f:
            self.manifest = json.load(f)
        self.root = root
        m = self.manifest
        self.num_samples, self.views = m['num_samples'], m['views']
        self.topk, self.num_classes = m['topk'], m['num_classes']
        self.shard_size = m['shard_size']
        self.steps = [tuple(s) for s in m['steps']]
        missing = [s for s in range(m['num_shards'])
                   if not osp.isdir(self._shard_dir(s))]
        if missing:
            raise RuntimeError(
                f'teacher store {root} lacks {len(missing)} of '
                f"{m['num_shards']} shards (first: {missing[0]}); finish it "
                'by running tools/build_teacher_store.py again.')
        self._shards: Dict[int, Dict[str, np.ndarray]] = {}

    def check(self, what: str, **expected) -> None:
        """:func:`check_manifest` on this store."""
        check_manifest(self.manifest, self.root, what, **expected)

    def _shard_dir(self, shard: int) -> str:
        return osp.join(self.root, f'shard_{shard:05d}')

    def _shard(self, shard: int) -> Dict[str, np.ndarray]:
        if shard not in self._shards:
            d = self._shard_dir(shard)
            self._shards[shard] = {
                f[:-4]: np.load(osp.join(d, f), mmap_mode='r')
                for f in os.listdir(d) if f.endswith('.npy')
            }
        return self._shards[shard]

    def _row(self, index: int, view: int):
        if not (0 <= index < self.num_samples and 0 <= view < self.views):
            raise IndexError(f'(sample {index}, view {view}) is outside the '
                             f'store ({self.num_samples} samples, '
                             f'{self.views} views).')
        shard, row = divmod(index, self.shard_size)
        return self._shard(shard), row

    def params(self, index: int, view: int) -> Dict[str, Tuple[int, ...]]:
        """``{step: parameters}`` of one stored view (``results['replay']``)."""
        arrays, row = self._row(index, view)
        flat, out, start = arrays['params'][row, view].tolist(), {}, 0
        for step, width in self.steps:
            out[step] = tuple(flat[start:start + width])
            start += width
        return out

    def teacher_outputs(self, index: int, view: int) -> Dict[str, torch.Tensor]:
        """The stored teacher outputs of one view, as tensors: ``logits``
        (float16 ``[C]``), or ``topk_values``, ``topk_indices`` and
        ``rest_mass`` (see :func:`mmkd.models.algorithms.store_logits`)."""
        arrays, row = self._row(index, view)
        keys = (('logits', ) if self.topk is None else
                ('topk_values', 'topk_indices', 'rest_mass'))
        return {k: torch.from_numpy(np.array(arrays[k][row, view]))
                for k in keys}


def store_topk(logits: torch.Tensor, k: int
               ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """What a top-k store keeps of a batch of logits ``[N, C]``: the ``k``
    largest logits, their class indices and the softmax (T = 1) mass of the
    other ``C - k`` classes, computed in float32."""
    logits = logits.float()
    values, indices = logits.topk(k, dim=1)
    rest = logits.scatter(1, indices, float('-inf'))
    if k == logits.shape[1]:
        mass = torch.zeros(logits.shape[0])
    else:
        mass = (rest.logsumexp(1) - logits.logsumexp(1)).exp()
    return values, indices, mass


def _write_manifest(out: str, manifest: dict) -> None:
    """Write the manifest, or check the one of a store being resumed."""
    path = osp.join(out, MANIFEST)
    if osp.isfile(path):
        with open(path) as f:
            check_manifest(json.load(f), out, '--out', **manifest)
        return
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, path)


def _barrier() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


@torch.no_grad()
def write_teacher_store(out: str,
                        teacher: torch.nn.Module,
                        data_preprocessor: torch.nn.Module,
                        dataset: dict,
                        views: int,
                        topk: Optional[int] = None,
                        seed: int = 0,
                        teacher_info: Optional[dict] = None,
                        shard_size: int = 1024,
                        batch_size: int = 64,
                        rank: int = 0,
                        world_size: int = 1) -> dict:
    """Build (or finish) a teacher store.

    Args:
        out (str): The store directory (created).
        teacher (nn.Module): The teacher classifier, in eval mode; called
            as ``teacher(inputs, mode='tensor')``.
        data_preprocessor (nn.Module): Turns a collated batch into the
            teacher's inputs (the distiller's).
        dataset (dict): The training dataset config, with its pipeline.
        views (int): Views per sample (epochs, or a cycle of views).
        topk (int, optional): Keep the top-k logits and the rest's mass;
            None keeps all logits.
        seed (int): Seed of the view draws.
        teacher_info (dict): ``dict(model=config, ckpt=path)`` recorded in
            the manifest (with the checkpoint's sha256).
        shard_size (int): Samples per shard.
        batch_size (int): Teacher batch size.
        rank (int): This process builds shards ``rank, rank +
            world_size, ...``.
        world_size (int): The number of processes building the store.

    Returns:
        dict: ``built`` and ``skipped`` shard counts of this process.
    """
    if not isinstance(views, int) or views < 1:
        raise ValueError(f'--epochs (views) must be a positive int, got '
                         f'{views!r}.')
    data, dataset_cfg, pipeline, steps = _build_replay_dataset(
        dataset, 'train_dataloader.dataset')
    n = len(data)
    num_shards = -(-n // shard_size)
    teacher_info = dict(teacher_info or {})
    teacher_info['ckpt_sha256'] = file_sha256(teacher_info.get('ckpt'))
    probe = data_preprocessor(pseudo_collate([data[0]]), False)['inputs']
    num_classes = int(teacher(probe, mode='tensor').shape[1])
    if topk is not None and not 1 <= topk <= num_classes:
        raise ValueError(f'--topk must be in 1..{num_classes} (the '
                         f'teacher\'s classes), got {topk}.')
    manifest = dict(
        format=FORMAT, teacher=teacher_info, dataset=dataset_cfg,
        pipeline=pipeline, seed=seed, views=views, topk=topk,
        num_classes=num_classes, num_samples=n, shard_size=shard_size,
        num_shards=num_shards, steps=steps,
        param_names=[f'{s}.{p}' for s, _ in steps for p in REPLAYABLE[
            pipeline[int(s)]['type']].PARAMS])
    os.makedirs(out, exist_ok=True)
    if rank == 0:
        _write_manifest(out, as_json(manifest))
    _barrier()
    if rank != 0:
        _write_manifest(out, as_json(manifest))
    width = sum(w for _, w in steps)
    idx_dtype = np.int16 if num_classes < 2**15 else np.int32
    built = skipped = 0
    for shard in range(rank, num_shards, world_size):
        final = osp.join(out, f'shard_{shard:05d}')
        if osp.isdir(final):
            skipped += 1
            continue
        tmp = f'{final}.tmp-r{rank}'
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        lo, hi = shard * shard_size, min(n, (shard + 1) * shard_size)

        def array(name, dtype, *shape):
            return np.lib.format.open_memmap(
                osp.join(tmp, f'{name}.npy'), mode='w+', dtype=dtype,
                shape=(hi - lo, views) + shape)

        params = array('params', np.int32, width)
        if topk is None:
            logits_out = array('logits', np.float16, num_classes)
            arrays = [params, logits_out]
        else:
            values_out = array('topk_values', np.float16, topk)
            indices_out = array('topk_indices', idx_dtype, topk)
            mass_out = array('rest_mass', np.float32)
            arrays = [params, values_out, indices_out, mass_out]
        for view in range(views):
            for start in range(lo, hi, batch_size):
                batch = []
                for i in range(start, min(hi, start + batch_size)):
                    info = data.get_data_info(i)
                    info['aug_params'] = drawn = {}
                    np.random.seed([seed, view, i])
                    batch.append(data.pipeline(info))
                    params[i - lo, view] = [
                        v for s, _ in steps for v in drawn[s]]
                inputs = data_preprocessor(pseudo_collate(batch),
                                           False)['inputs']
                logits = teacher(inputs, mode='tensor').float().cpu()
                rows = slice(start - lo, start - lo + len(batch))
                if topk is None:
                    logits_out[rows, view] = logits.numpy().astype(np.float16)
                else:
                    vals, idx, mass = store_topk(logits, topk)
                    values_out[rows, view] = vals.numpy().astype(np.float16)
                    indices_out[rows, view] = idx.numpy().astype(idx_dtype)
                    mass_out[rows, view] = mass.numpy()
        for arr in arrays:
            arr.flush()
        del arrays, params
        os.replace(tmp, final)
        built += 1
        print_log(f'teacher store {out}: shard {shard + 1}/{num_shards} '
                  f'done (rank {rank})', logger='current')
    _barrier()
    return dict(built=built, skipped=skipped, num_shards=num_shards)


@DATASETS.register_module()
class TeacherStoreDataset:
    """Replay the views of a teacher store, each with the teacher's logits.

    Indexed by ``(sample, view)`` (from :class:`TeacherStoreSampler`): the
    inner dataset's sample goes through its pipeline with each random
    transform replaced by its ``Replay*`` version and given the stored
    parameters, so the view is the one the teacher saw; its data sample
    carries the stored teacher outputs (``teacher_logits``, or
    ``teacher_topk_values``, ``teacher_topk_indices`` and
    ``teacher_rest_mass``) for ``StoreTeacherDistiller``.

    Args:
        dataset (dict): The training dataset config (with its pipeline), the
            one the store was built from.
        store (str): The store directory.
        seed (int, optional): The seed the views must have been drawn with
            (the config's ``randomness.seed``); None does not check it.

    Examples:
        >>> train_dataloader = dict(
        ...     dataset=dict(type='TeacherStoreDataset', store=STORE,
        ...                  dataset=dict(type='CIFAR10Mini', ...)),
        ...     sampler=dict(type='TeacherStoreSampler', shuffle=True))
    """

    def __init__(self, dataset: dict, store: str,
                 seed: Optional[int] = None) -> None:
        field = 'train_dataloader.dataset.dataset'
        self.dataset, dataset_cfg, pipeline, _ = _build_replay_dataset(
            dataset, field)
        self.store = TeacherStore(store)
        expected = dict(dataset=dataset_cfg, pipeline=pipeline)
        if seed is not None:
            expected['seed'] = seed
        self.store.check('train_dataloader.dataset', **expected)
        if len(self.dataset) != self.store.num_samples:
            raise ValueError(
                f'{field} has {len(self.dataset)} samples but the teacher '
                f'store {store} holds {self.store.num_samples}; rebuild it.')
        self.views = self.store.views

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        if not isinstance(key, (tuple, list)) or len(key) != 2:
            raise TypeError(
                'TeacherStoreDataset is indexed by (sample, view); set '
                "train_dataloader.sampler=dict(type='TeacherStoreSampler').")
        index, view = int(key[0]), int(key[1])
        info = self.dataset.get_data_info(index)
        info['replay'] = self.store.params(index, view)
        out = self.dataset.pipeline(info)
        for key, value in self.store.teacher_outputs(index, view).items():
            # set_field does not deep-copy (set_metainfo would, per sample)
            out['data_samples'].set_field(value, f'teacher_{key}',
                                          field_type='metainfo')
        return out


@DATA_SAMPLERS.register_module()
class TeacherStoreSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` yielding ``(sample, view)`` with view
    ``epoch % views``: epoch ``e`` replays the store's ``e``-th views (a run
    longer than ``views`` epochs cycles through them).

    Args:
        dataset (TeacherStoreDataset): The dataset it samples.
        **kwargs: ``DefaultSampler``'s (``shuffle``, ``seed``, ``round_up``).
    """

    def __init__(self, dataset, **kwargs) -> None:
        if not isinstance(dataset, TeacherStoreDataset):
            raise TypeError(
                'TeacherStoreSampler samples a TeacherStoreDataset; set '
                "train_dataloader.dataset=dict(type='TeacherStoreDataset', "
                f'store=..., dataset=...), not {type(dataset).__name__}.')
        super().__init__(dataset, **kwargs)

    def __iter__(self):
        view = self.epoch % self.dataset.views
        for index in super().__iter__():
            yield (index, view)
