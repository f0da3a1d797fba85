"""mmkd's KD training step versus a hand-written plain-PyTorch KD step.

    python benchmarks/distill_step.py [--steps 30] [--pairs tiny mid]

Both steps use the same architectures, batch, SGD optimizer and loss
(0.1 CE + 0.9 T^2 KL, T = 4, teacher under ``no_grad``). mmkd's step is what
the runner runs each iteration: ``SingleTeacherDistiller.train_step`` (data
preprocessor, taps, loss dict, ``parse_losses``, ``OptimWrapper``). The
plain step normalises the batch, runs the teacher and student modules and
calls ``backward`` and ``step`` directly.

Time: the two steps alternate in one process (order flipped every step),
after warm-up; the script prints the median time of each and the ratio of
medians. Memory (see ``step_memory``): on a GPU the ratio of the peak memory
a step allocates; on a CPU, which has no allocator statistics, the ratio
of the bytes autograd saves for backward during a step.
"""
import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

PAIRS = {
    # name: (teacher depth, teacher widths, student depth, student widths)
    'tiny': (20, (16, 32, 64), 8, (8, 16, 32)),
    'mid': (56, (16, 32, 64), 20, (16, 32, 64)),
}
MEAN = [125.307, 122.961, 113.8575]
STD = [51.5865, 50.847, 51.255]


def classifier(depth, widths, num_classes=100):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=depth, widths=widths),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=widths[-1], loss=dict(type='CrossEntropyLoss')))


def build(pair, device):
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope

    from mmkd.registry import MODELS
    init_default_scope('mmkd')
    td, tw, sd, sw = PAIRS[pair]
    model = MODELS.build(dict(
        type='SingleTeacherDistiller',
        student=classifier(sd, sw), teacher=classifier(td, tw),
        student_loss_weight=0.1,
        data_preprocessor=dict(type='ClsDataPreprocessor', mean=MEAN,
                               std=STD, to_rgb=False),
        distill_losses=dict(loss_kd=dict(
            type='KDLoss', tau=4, loss_weight=0.9,
            inputs=dict(preds_S='s_logits', preds_T='t_logits'))))).to(device)
    model.train()
    wrapper = OptimWrapper(torch.optim.SGD(
        model.student.parameters(), lr=0.05, momentum=0.9,
        weight_decay=5e-4))
    # the plain reference: the same architectures, separate copies
    student = copy.deepcopy(model.student).to(device).train()
    teacher = copy.deepcopy(model.teacher).to(device).eval()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9,
                                weight_decay=5e-4)
    return model, wrapper, student, teacher, optimizer


def make_batch(batch_size, device):
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch_size, 3, 32, 32), generator=g,
                           dtype=torch.uint8)
    labels = torch.randint(0, 100, (batch_size, ), generator=g)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    data = dict(inputs=images.to(device), data_samples=samples)
    return data, images.to(device), labels.to(device)


def plain_step(student, teacher, optimizer, images, labels, mean, std):
    x = (images.float() - mean) / std
    with torch.no_grad():
        t = teacher.head.fc(teacher.neck(teacher.backbone(x))[-1])
    s = student.head.fc(student.neck(student.backbone(x))[-1])
    kl = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1),
                  reduction='batchmean') * 16
    loss = 0.1 * F.cross_entropy(s, labels) + 0.9 * kl
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def time_pair(pair, steps, batch_size, device):
    model, wrapper, student, teacher, optimizer = build(pair, device)
    data, images, labels = make_batch(batch_size, device)
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)

    def run_mmkd():
        model.train_step(data, wrapper)

    def run_plain():
        plain_step(student, teacher, optimizer, images, labels, mean, std)

    for _ in range(3):  # warm-up
        run_mmkd()
        run_plain()
    memory = {'mmkd': step_memory(run_mmkd, device),
              'plain': step_memory(run_plain, device)}
    times = {'mmkd': [], 'plain': []}
    for i in range(steps):
        order = [('mmkd', run_mmkd), ('plain', run_plain)]
        for name, fn in (order if i % 2 == 0 else order[::-1]):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}, memory


def step_memory(fn, device):
    """Bytes a training step needs beyond what is already allocated.

    GPU: the peak of ``torch.cuda.memory_allocated`` during the step.
    CPU (no allocator statistics): the bytes autograd saves for backward
    during the step (activations and the weights they use) -- the part of
    a step's memory that a distiller's taps, hooks or teacher could add to.
    """
    if device.type == 'cuda':
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', nargs='+', default=['tiny', 'mid'],
                        choices=list(PAIRS))
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f'device {device}, batch {args.batch_size}, {args.steps} timed '
          f'steps per variant, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads')
    print(f"{'pair':<6}{'teacher->student':<22}{'mmkd ms':>9}"
          f"{'plain ms':>10}{'time ratio':>12}{'memory ratio':>14}")
    for pair in args.pairs:
        t, m = time_pair(pair, args.steps, args.batch_size, device)
        td, _, sd, sw = PAIRS[pair]
        label = f'resnet{td}->resnet{sd}' + ('-w8' if sw[0] == 8 else '')
        mem_ratio = m['mmkd'] / m['plain'] if m['plain'] > 0 else float('nan')
        print(f"{pair:<6}{label:<22}{t['mmkd'] * 1e3:>9.1f}"
              f"{t['plain'] * 1e3:>10.1f}{t['mmkd'] / t['plain']:>12.3f}"
              f'{mem_ratio:>14.3f}')


if __name__ == '__main__':
    main()
