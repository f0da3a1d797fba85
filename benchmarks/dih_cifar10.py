"""DIH versus KD versus the student alone on the bundled CIFAR-10 subset.

    python benchmarks/dih_cifar10.py [--teacher-ckpt PATH] [--epochs 15]
        [--teacher-epochs 15] [--head-epochs 10] [--work-dir DIR]

One pipeline (``mmkd.engine.run_pipeline``) on ``CIFAR10Mini`` (5,000
training / 3,000 test images, CPU-friendly):

1. ``teacher``: CIFAR ResNet-20 with CE (skipped with ``--teacher-ckpt``).
2. ``heads``: DIH's 3 heads (``DIHHead`` on ``layer1..3``) on the frozen
   teacher, each selected on a validation split of 500 training images
   (``SplitDataset``), never on the test images.
3. ``student_alone``: CIFAR ResNet-8 with widths (8, 16, 32), CE only.
4. ``student_kd``: the same student, KD with DIH's KD settings
   (``0.9 CE + 0.1 * 5^2 KL``, tau 5, alpha 0.1).
5. ``student_dih``: the same student, DIH's cohort loss (tau 5, alpha 0.1,
   CE counted per classifier as in the paper).

Every stage uses the same seed, batch 64 and schedule (SGD 0.1 Nesterov,
momentum 0.9, wd 5e-4, cosine over the epochs, as the quickstart). The
students are trained on all 5,000 training images and evaluated on the
3,000 test images after their last epoch. The script prints a table of
each stage's final top-1 and wall time and writes it to
``<work-dir>/summary.md``. Running it again skips finished stages.

Defaults take about 10 minutes on two CPU cores. ``--n-train 256
--n-test 200 --epochs 1 --teacher-epochs 1 --head-epochs 1`` is a smoke
test of a few seconds.
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
BASE = osp.join(REPO, 'configs', '_base_')


def classifier(depth, widths):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=depth, widths=widths),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=widths[-1], loss=dict(type='CrossEntropyLoss')))


TEACHER = classifier(20, (16, 32, 64))
STUDENT = classifier(8, (8, 16, 32))
# CIFAR10Mini's sizes; the images are sorted by class
TRAIN_SIZE, TEST_SIZE = 5000, 3000
MOUNTS = ['teacher.backbone.layer1', 'teacher.backbone.layer2',
          'teacher.backbone.layer3']


def spread(n, total):
    """``n`` indices spread over a class-sorted set (None: all)."""
    if not n or n >= total:
        return None
    return [i * total // n for i in range(n)]


def stage_config(model, epochs, args, val_interval=None, extra=''):
    """A config text: ``model`` on CIFAR10Mini with the shared schedule."""
    train_indices = spread(args.n_train, TRAIN_SIZE)
    test_indices = spread(args.n_test, TEST_SIZE)
    return f"""
_base_ = ['{BASE}/datasets/cifar10_mini_bs64.py',
          '{BASE}/schedules/cifar_sgd_cosine_15e.py',
          '{BASE}/default_runtime.py']
model = {model!r}
train_dataloader = dict(batch_size={args.batch},
                        dataset=dict(indices={train_indices!r}))
val_dataloader = dict(dataset=dict(indices={test_indices!r}))
test_dataloader = val_dataloader
param_scheduler = dict(T_max={epochs})
train_cfg = dict(max_epochs={epochs}, val_interval={val_interval or epochs})
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval={epochs}, max_keep_ckpts=1))
randomness = dict(seed={args.seed})
{extra}"""


def heads_extra(args):
    split = (f"dict(_delete_=True, type='SplitDataset', part='{{}}', "
             f"val_ratio={args.val_ratio}, seed=0, dataset=dict("
             f"type='CIFAR10Mini', split='train', "
             f"indices={spread(args.n_train, TRAIN_SIZE)!r}, "
             f"pipeline={{}}))")
    return f"""
custom_imports = dict(imports=['mmkd.datasets.split'])
train_dataloader = dict(
    batch_size={args.batch},
    dataset={split.format('train', '_base_.train_pipeline')})
val_dataloader = dict(
    dataset={split.format('val', '_base_.test_pipeline')})
val_evaluator = [dict(type='Accuracy'), dict(
    type='MultiTasksMetric',
    task_metrics=dict(head1=[dict(type='Accuracy')],
                      head2=[dict(type='Accuracy')],
                      head3=[dict(type='Accuracy')]))]
test_evaluator = val_evaluator
custom_hooks = _base_.custom_hooks + [dict(type='HeadSelectHook')]
"""


def write_configs(args, cfg_dir):
    os.makedirs(cfg_dir, exist_ok=True)
    teacher_ckpt = args.teacher_ckpt
    models = dict(
        teacher=(TEACHER, args.teacher_epochs, None, ''),
        heads=(dict(type='HeadFinetuner', teacher=TEACHER,
                    teacher_ckpt=teacher_ckpt, mounts=MOUNTS,
                    head=dict(type='DIHHead')),
               args.head_epochs, 1, heads_extra(args)),
        student_alone=(STUDENT, args.epochs, None, ''),
        student_kd=(dict(
            type='SingleTeacherDistiller', student=STUDENT, teacher=TEACHER,
            teacher_ckpt=teacher_ckpt, student_loss_weight=0.9,
            distill_losses=dict(loss_kd=dict(
                type='KDLoss', tau=5, loss_weight=0.1,
                inputs=dict(preds_S='s_logits', preds_T='t_logits')))),
            args.epochs, None, ''),
        student_dih=(dict(
            type='DIHDistiller', student=STUDENT, teacher=TEACHER,
            teacher_ckpt=None, mounts=MOUNTS, head=dict(type='DIHHead'),
            student_loss_weight=0.0,
            distill_losses=dict(loss_dih=dict(
                type='CohortKDLoss', tau=5, alpha=0.1, ce_mode='per_head',
                inputs=dict(preds_S='s_logits', preds_T='t_cohort_logits',
                            gt_labels='gt_labels')))),
            args.epochs, None, ''),
    )
    for name, (model, epochs, val_interval, extra) in models.items():
        with open(osp.join(cfg_dir, f'{name}.py'), 'w') as f:
            f.write(stage_config(model, epochs, args, val_interval, extra))
    teacher_ref = repr(teacher_ckpt) if teacher_ckpt else "'{teacher}'"
    stages = [] if teacher_ckpt else [
        "    dict(name='teacher', config='teacher.py'),"]
    stages += [
        "    dict(name='heads', config='heads.py',",
        f"         cfg_options={{'model.teacher_ckpt': {teacher_ref}}}),",
        "    dict(name='student_alone', config='student_alone.py'),",
        "    dict(name='student_kd', config='student_kd.py',",
        f"         cfg_options={{'model.teacher_ckpt': {teacher_ref}}}),",
        "    dict(name='student_dih', config='student_dih.py',",
        "         cfg_options={'model.teacher_ckpt': '{heads}'}),",
    ]
    path = osp.join(cfg_dir, 'pipeline.py')
    with open(path, 'w') as f:
        f.write('stages = [\n' + '\n'.join(stages) + '\n]\n'
                f'work_dir = {osp.abspath(args.work_dir)!r}\n')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--teacher-ckpt', help='reuse a trained ResNet-20 '
                        '(a checkpoint of the teacher stage)')
    parser.add_argument('--teacher-epochs', type=int, default=15)
    parser.add_argument('--head-epochs', type=int, default=10)
    parser.add_argument('--epochs', type=int, default=15,
                        help='epochs of each student')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--val-ratio', type=float, default=0.1,
                        help='share of the training images the heads are '
                        'selected on')
    parser.add_argument('--n-train', type=int, default=0,
                        help='use N training images spread over the '
                        'classes (0: all)')
    parser.add_argument('--n-test', type=int, default=0,
                        help='use N test images spread over the classes '
                        '(0: all)')
    parser.add_argument('--work-dir', default='work_dirs/dih_cifar10')
    args = parser.parse_args()
    if args.teacher_ckpt:
        args.teacher_ckpt = osp.abspath(args.teacher_ckpt)

    sys.path.insert(0, REPO)
    from mmengine.config import Config

    import mmkd  # noqa: F401
    from mmkd.engine import format_summary, run_pipeline

    path = write_configs(args, osp.join(args.work_dir, 'configs'))
    summaries = run_pipeline(Config.fromfile(path), runner_type='KDRunner')
    rows = [s for s in summaries if s['name'] != 'heads']
    table = format_summary(rows, metric='accuracy/top1')
    heads = next(s for s in summaries if s['name'] == 'heads')['metrics']
    head_line = ', '.join(f'{k.split("_")[0]} {v:.2f}'
                          for k, v in sorted(heads.items())
                          if k.startswith('head'))
    text = (f'{table}\n\nheads (top-1 on the {args.val_ratio:.0%} '
            f'validation split, last epoch): {head_line}\n'
            f'settings: {vars(args)}\n')
    print(text)
    with open(osp.join(args.work_dir, 'summary.md'), 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
