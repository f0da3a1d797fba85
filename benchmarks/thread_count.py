"""Training-step time of the quickstart models at 1 thread and the default.

    python benchmarks/thread_count.py [--repeats 7] [--threads 1 2]

Times one SGD step (forward, backward, update) of the quickstart teacher
(CIFAR ResNet-20) and student (ResNet-8, half width) on a batch of 64
32x32 images, alternating the thread counts so that a change in the load
of a shared machine falls on all of them alike. Prints the median seconds
per step for each thread count; the quickstart doc quotes its figures.
"""
import argparse
import statistics
import time

import torch
from mmengine.registry import init_default_scope

from mmkd.registry import MODELS


def model(depth, widths):
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=depth, widths=widths),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=widths[-1],
                  loss=dict(type='CrossEntropyLoss'))))


def step_time(net, opt, x, y, steps=5):
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x, mode='tensor'), y)
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, nargs='+',
                        default=[1, torch.get_num_threads()])
    args = parser.parse_args()
    init_default_scope('mmkd')
    torch.manual_seed(0)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64, ))
    for name, net in [('teacher ResNet-20', model(20, (16, 32, 64))),
                      ('student ResNet-8-w8', model(8, (8, 16, 32)))]:
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        times = {t: [] for t in args.threads}
        step_time(net, opt, x, y, steps=2)  # warm-up
        for _ in range(args.repeats):
            for t in args.threads:
                torch.set_num_threads(t)
                times[t].append(step_time(net, opt, x, y))
        cells = ', '.join(f'{t} thread(s): {statistics.median(v):.3f} s/step'
                          for t, v in times.items())
        print(f'{name}: {cells}')


if __name__ == '__main__':
    main()
