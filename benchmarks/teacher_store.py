"""A KD step from a teacher store versus online KD and the student alone.

    OMP_NUM_THREADS=1 python benchmarks/teacher_store.py [--steps 30]
        [--pairs quickstart mid] [--batch-size 64] [--store-images 512]

For each teacher -> student pair (``quickstart``: CIFAR ResNet-20 ->
ResNet-8-w8, 10 classes; ``mid``: ResNet-56 -> ResNet-20, 100 classes)
it builds a teacher store over the first ``--store-images`` images of the
bundled CIFAR-10 subset (2 views, the quickstart pipeline, a random
teacher: timing does not depend on the weights) and times three training
steps (``train_step``: data preprocessor, forward, losses, backward, SGD)
on one batch of stored views:

- ``online``: ``SingleTeacherDistiller``, the teacher runs;
- ``store``: ``StoreTeacherDistiller``, the teacher's logits come from the
  batch's data samples;
- ``student``: the student classifier alone (CE only): the limit.

The three alternate in one process (the order rotates every step), after
warm-up; the script prints the median of each, then the cost of loading a
batch (plain pipeline vs replaying from the store), the store's build time
and size, and last the ratios of the store step to the student step and to
the online step.
"""
import argparse
import os
import shutil
import statistics
import tempfile
import time

import torch

PAIRS = {
    # name: (teacher depth, widths, student depth, widths, classes)
    'quickstart': (20, (16, 32, 64), 8, (8, 16, 32), 10),
    'mid': (56, (16, 32, 64), 20, (16, 32, 64), 100),
}
PREPROCESSOR = dict(type='ClsDataPreprocessor', num_classes=10,
                    mean=[125.307, 122.961, 113.8575],
                    std=[51.5865, 50.847, 51.255], to_rgb=True)
PIPELINE = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
KD = dict(loss_kd=dict(type='KDLoss', tau=4, loss_weight=0.9,
                       inputs=dict(preds_S='s_logits', preds_T='t_logits')))


def classifier(depth, widths, num_classes):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=depth, widths=widths),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=widths[-1], loss=dict(type='CrossEntropyLoss')))


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def build_store(out, teacher_cfg, images):
    from mmkd.datasets.teacher_store import write_teacher_store
    from mmkd.models.algorithms import build_classifier
    from mmkd.registry import MODELS
    torch.manual_seed(0)
    teacher = build_classifier(teacher_cfg, 'teacher')
    teacher.init_weights()
    teacher.eval()
    dataset = dict(type='CIFAR10Mini', split='train',
                   indices=list(range(images)), pipeline=PIPELINE)
    start = time.perf_counter()
    write_teacher_store(out, teacher, MODELS.build(PREPROCESSOR), dataset,
                        views=2, seed=0, shard_size=256,
                        teacher_info=dict(model=teacher_cfg, ckpt=None))
    seconds = time.perf_counter() - start
    size = sum(os.path.getsize(os.path.join(r, f))
               for r, _, fs in os.walk(out) for f in fs)
    return dataset, seconds, size


def load_times(dataset_cfg, store, batch_size, repeats=5):
    """Median seconds to load one batch: plain pipeline vs store replay."""
    from mmkd.datasets import TeacherStoreDataset
    from mmkd.registry import DATASETS
    plain = DATASETS.build(dataset_cfg)
    replay = TeacherStoreDataset(dataset_cfg, store)
    out = {'plain': [], 'store': []}
    for r in range(repeats):
        idx = range(r * batch_size, (r + 1) * batch_size)
        for name, get in (('plain', lambda i: plain[i % len(plain)]),
                          ('store', lambda i: replay[(i % len(replay),
                                                      1)])):
            start = time.perf_counter()
            for i in idx:
                get(i)
            out[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in out.items()}, replay


def time_pair(pair, args, device):
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper

    from mmkd.registry import MODELS
    td, tw, sd, sw, classes = PAIRS[pair]
    teacher_cfg, student_cfg = (classifier(td, tw, classes),
                                classifier(sd, sw, classes))
    root = tempfile.mkdtemp(prefix='teacher_store_bench_')
    try:
        store = os.path.join(root, 'store')
        dataset_cfg, build_s, size = build_store(store, teacher_cfg,
                                                 args.store_images)
        loads, replay = load_times(dataset_cfg, store, args.batch_size)
        batch = pseudo_collate([replay[(i, 0)]
                                for i in range(args.batch_size)])
        common = dict(student=student_cfg, teacher=teacher_cfg,
                      student_loss_weight=0.1, distill_losses=KD,
                      data_preprocessor=PREPROCESSOR)
        models = {
            'online': MODELS.build(dict(common,
                                        type='SingleTeacherDistiller')),
            'store': MODELS.build(dict(common, type='StoreTeacherDistiller',
                                       teacher_store=store)),
            'student': MODELS.build(dict(student_cfg,
                                         data_preprocessor=PREPROCESSOR)),
        }
        wrappers = {}
        for name, model in models.items():
            model.to(device).train()
            params = (model.student if name != 'student' else
                      model).parameters()
            wrappers[name] = OptimWrapper(torch.optim.SGD(
                params, lr=0.05, momentum=0.9, weight_decay=5e-4))
        names = list(models)
        for _ in range(3):  # warm-up
            for name in names:
                models[name].train_step(batch, wrappers[name])
        times = {name: [] for name in names}
        for step in range(args.steps):
            k = step % len(names)
            for name in names[k:] + names[:k]:
                sync(device)
                start = time.perf_counter()
                models[name].train_step(batch, wrappers[name])
                sync(device)
                times[name].append(time.perf_counter() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return medians, loads, build_s, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', nargs='+', default=list(PAIRS),
                        choices=list(PAIRS))
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--store-images', type=int, default=512)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    init_default_scope('mmkd')
    # keep the tables readable: no weight-initialisation reports
    MMLogger.get_current_instance().setLevel('WARNING')
    device = torch.device(args.device)
    print(f'device {device}, batch {args.batch_size}, {args.steps} timed '
          f'steps per variant (medians), torch {torch.__version__}, '
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f'{torch.get_num_threads()} torch threads')
    results = {}
    for pair in args.pairs:
        results[pair] = time_pair(pair, args, device)
    print(f"\n{'pair':<11}{'teacher->student':<22}{'online ms':>10}"
          f"{'store ms':>10}{'student ms':>11}")
    for pair, (t, _, _, _) in results.items():
        td, _, sd, sw, _ = PAIRS[pair]
        label = f'resnet{td}->resnet{sd}' + ('-w8' if sw[0] == 8 else '')
        print(f"{pair:<11}{label:<22}{t['online'] * 1e3:>10.1f}"
              f"{t['store'] * 1e3:>10.1f}{t['student'] * 1e3:>11.1f}")
    print(f"\n{'pair':<11}{'load plain ms':>14}{'load store ms':>14}"
          f"{'store build s':>14}{'store MiB':>10}  (store: "
          f'{args.store_images} images x 2 views)')
    for pair, (_, loads, build_s, size) in results.items():
        print(f"{pair:<11}{loads['plain'] * 1e3:>14.1f}"
              f"{loads['store'] * 1e3:>14.1f}{build_s:>14.2f}"
              f'{size / 2**20:>10.2f}')
    print('\nstep ratios (target store/student <= 1.10; the limit is 1.00):')
    for pair, (t, _, _, _) in results.items():
        print(f"{pair:<11}store/student {t['store'] / t['student']:.3f}  "
              f"store/online {t['store'] / t['online']:.3f}")


if __name__ == '__main__':
    main()
