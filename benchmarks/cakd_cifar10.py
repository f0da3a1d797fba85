"""CAKD versus OFA-KD versus logits KD versus the student alone, ViT
teacher -> CNN, on the bundled CIFAR-10 subset.

    python benchmarks/cakd_cifar10.py [--teacher-ckpt PATH] [--epochs 15]
        [--teacher-epochs 20] [--student-widths 8 16 32] [--work-dir DIR]

One pipeline (``mmkd.engine.run_pipeline``) on ``CIFAR10Mini`` (5,000
training / 3,000 test images, CPU-friendly), from the configs in
``configs/cakd/`` (each stage's config here only sets the epochs, the
teacher checkpoint and the data subset):

1. ``teacher``: a small ViT with 4x4 patches (96 dims, 4 layers, 3
   heads; ``vit-p4-w96_1xb64_cifar10mini.py``), AdamW, label smoothing
   (skipped with ``--teacher-ckpt``).
2. ``student_alone``: the quickstart student, CIFAR ResNet-8 with widths
   (8, 16, 32), CE only (``configs/quickstart/resnet8-w8_...``).
3. ``student_kd``: the same student, logits KD from the ViT (0.1 CE +
   0.9 KL, T = 4; ``kd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py``).
4. ``student_cakd``: the same student, CAKD (PCA and GL projectors, class-
   token and logit terms, multi-view, adversarial discriminator;
   ``cakd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py``), its loss weight
   ramped 0 -> 0.2 from 20% to 60% of the epochs (the release: epochs
   25-75 of 120).
5. ``student_ofa``: the same student, OFA-KD (a branch into the logit
   space on each stage, the OFA loss with eps = 1 on every branch and on
   the logits, 1.0 CE; ``configs/ofa/ofa_vit-p4-w96_resnet8-w8_1xb64_
   cifar10mini.py``).

The students share the seed, batch 64 and schedule (SGD 0.1 Nesterov,
momentum 0.9, wd 5e-4, cosine over the epochs), are trained on all 5,000
training images and evaluated on the 3,000 test images after their last
epoch. The script prints a table of each stage's final top-1 and wall time
and writes it to ``<work-dir>/summary.md``. Running it again skips
finished stages. ``--n-train 256 --n-test 200 --epochs 1
--teacher-epochs 1`` is a smoke test of a few seconds.

Cost with ``OMP_NUM_THREADS=1`` on two shared CPU cores (measured with
``--epochs 1 --teacher-epochs 1``): one training epoch takes about 28 s
for the teacher and 8 / 13 / 27 s for the student alone / KD / CAKD (the
teacher's forward pass, the projectors and the discriminator), plus about
10 s of start-up and evaluation per stage; the defaults (20 + 3 x 15
epochs) take about 22 minutes.
"""
import argparse
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
STAGES = dict(
    teacher='cakd/vit-p4-w96_1xb64_cifar10mini.py',
    student_alone='quickstart/resnet8-w8_1xb64_cifar10mini.py',
    student_kd='cakd/kd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py',
    student_cakd='cakd/cakd_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py',
    student_ofa='ofa/ofa_vit-p4-w96_resnet8-w8_1xb64_cifar10mini.py',
)
TEACHER_DIMS = 96  # the ViT's width: OFA-KD's branches end in max(C_S, 96)
# CIFAR10Mini's sizes; the images are sorted by class
TRAIN_SIZE, TEST_SIZE = 5000, 3000


def spread(n, total):
    """``n`` indices spread over a class-sorted set (None: all)."""
    if not n or n >= total:
        return None
    return [i * total // n for i in range(n)]


def ramp(epochs):
    """The release's ramp (0 until 25/120 of training, 0.2 at 75/120),
    scaled to ``epochs``: ``(start_epoch, end_epoch)``."""
    start = round(epochs * 25 / 120)
    return start, max(start + 1, round(epochs * 75 / 120))


def stage_config(name, epochs, args):
    """A leaf config: the repo config with this run's epochs and data."""
    lines = [f'_base_ = [{osp.join(CONFIGS, STAGES[name])!r}]']
    if name == 'teacher':
        lines += [
            'param_scheduler = [',
            "    dict(type='LinearLR', start_factor=1e-2, by_epoch=True,",
            '         begin=0, end=1, convert_to_iter_based=True),',
            "    dict(type='CosineAnnealingLR', by_epoch=True, begin=1,",
            f'         end={max(epochs, 2)}, eta_min=1e-5,',
            '         convert_to_iter_based=True),',
            ']',
        ]
    else:
        lines.append(f'param_scheduler = dict(T_max={epochs})')
    if name != 'teacher' and args.student_widths:
        lines += student_width_lines(name, args.student_widths)
    if name == 'student_cakd':
        start, end = ramp(epochs)
        lines += [
            'custom_hooks = [',
            "    dict(type='RNGStateHook'), dict(type='DataCheckHook'),",
            "    dict(type='LossEpochHook'),",
            f"    dict(type='LossWeightRampHook', start_epoch={start},",
            f'         end_epoch={end}, max_weight=0.2),',
            ']',
        ]
    lines += [
        f'train_cfg = dict(max_epochs={epochs}, val_interval={epochs})',
        f'train_dataloader = dict(batch_size={args.batch}, dataset=dict(',
        f'    indices={spread(args.n_train, TRAIN_SIZE)!r}))',
        'val_dataloader = dict(dataset=dict(',
        f'    indices={spread(args.n_test, TEST_SIZE)!r}))',
        'test_dataloader = val_dataloader',
        f'default_hooks = dict(checkpoint=dict(interval={epochs}, '
        'max_keep_ckpts=1))',
        f'randomness = dict(seed={args.seed})',
    ]
    return '\n'.join(lines) + '\n'


def student_width_lines(name, widths):
    """Config lines giving the student (every student stage) other stage
    widths; the CAKD projectors follow its last width."""
    widths, last = tuple(widths), widths[-1]
    model = "dict(backbone=dict(widths={}), head=dict(in_channels={}))"
    model = model.format(widths, last)
    if name == 'student_alone':
        return [f'model = {model}']
    if name == 'student_kd':
        return [f'model = dict(student={model})']
    if name == 'student_ofa':
        out = max(last, TEACHER_DIMS)
        branches = ', '.join(
            f's_branch{i}=dict(in_channels={w}, out_channels={out})'
            for i, w in enumerate(widths, 1))
        return [f'model = dict(student={model}, connectors=dict({branches}))']
    return [
        f'model = dict(student={model}, distill_losses=dict(loss_cakd=dict('
        f'student_channels={last}, pooled_channels={last}, '
        f'pca=dict(embed_dims={last}))))'
    ]


def write_configs(args, cfg_dir):
    os.makedirs(cfg_dir, exist_ok=True)
    for name in STAGES:
        epochs = args.teacher_epochs if name == 'teacher' else args.epochs
        with open(osp.join(cfg_dir, f'{name}.py'), 'w') as f:
            f.write(stage_config(name, epochs, args))
    teacher_ref = repr(args.teacher_ckpt) if args.teacher_ckpt else \
        "'{teacher}'"
    stages = [] if args.teacher_ckpt else [
        "    dict(name='teacher', config='teacher.py'),"]
    stages += [
        "    dict(name='student_alone', config='student_alone.py'),",
        "    dict(name='student_kd', config='student_kd.py',",
        f"         cfg_options={{'model.teacher_ckpt': {teacher_ref}}}),",
        "    dict(name='student_cakd', config='student_cakd.py',",
        f"         cfg_options={{'model.teacher_ckpt': {teacher_ref}}}),",
        "    dict(name='student_ofa', config='student_ofa.py',",
        f"         cfg_options={{'model.teacher_ckpt': {teacher_ref}}}),",
    ]
    path = osp.join(cfg_dir, 'pipeline.py')
    with open(path, 'w') as f:
        f.write('stages = [\n' + '\n'.join(stages) + '\n]\n'
                f'work_dir = {osp.abspath(args.work_dir)!r}\n')
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--teacher-ckpt', help='reuse a trained ViT teacher '
                        '(a checkpoint of the teacher stage)')
    parser.add_argument('--teacher-epochs', type=int, default=20)
    parser.add_argument('--epochs', type=int, default=15,
                        help='epochs of each student')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--n-train', type=int, default=0,
                        help='use N training images spread over the '
                        'classes (0: all)')
    parser.add_argument('--n-test', type=int, default=0,
                        help='use N test images spread over the classes '
                        '(0: all)')
    parser.add_argument('--student-widths', type=int, nargs=3,
                        help='stage widths of the ResNet-8 student '
                        '(default: the quickstart\'s 8 16 32)')
    parser.add_argument('--work-dir', default='work_dirs/cakd_cifar10')
    args = parser.parse_args()
    if args.epochs < 1 or args.teacher_epochs < 1:
        parser.error('--epochs and --teacher-epochs must be at least 1.')
    if args.teacher_ckpt:
        args.teacher_ckpt = osp.abspath(args.teacher_ckpt)
        if not osp.isfile(args.teacher_ckpt):
            parser.error(f'--teacher-ckpt {args.teacher_ckpt} is not a '
                         'file.')

    sys.path.insert(0, REPO)
    from mmengine.config import Config

    import mmkd  # noqa: F401
    from mmkd.engine import format_summary, run_pipeline

    path = write_configs(args, osp.join(args.work_dir, 'configs'))
    summaries = run_pipeline(Config.fromfile(path), runner_type='KDRunner')
    table = format_summary(summaries, metric='accuracy/top1')
    text = f'{table}\n\nsettings: {vars(args)}\n'
    print(text)
    with open(osp.join(args.work_dir, 'summary.md'), 'w') as f:
        f.write(text)


if __name__ == '__main__':
    main()
