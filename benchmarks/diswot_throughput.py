"""DisWOT scoring throughput: mmkd's cached teacher vs per-candidate teacher.

    python benchmarks/diswot_throughput.py [--teacher-depth 56] [--batch 64]
        [--repeats 3] [--names 111 333 557 777 ...]

Both sides score S1 candidates (``CIFARResNetDepthSpace``) against a random
CIFAR ResNet teacher on one batch of the bundled CIFAR-10 subset, with
``-(M_s + M_r)`` (methods.md 1.1-1.3):

- **mmkd**: ``PROXIES.build(dict(type='DisWOT'))``; ``prepare`` runs the
  teacher once, then each candidate costs one student forward + backward
  (what ``tools/search.py`` does per candidate);
- **reference**: a straightforward plain-PyTorch implementation written
  here from the paper's formulas, which re-initialises the teacher and runs
  its forward + full backward (``loss.backward()``) for every candidate, as
  the authors' code did (with gradients zeroed, unlike their code);
- **reference_fc**: the same, but the fc gradient comes from
  ``autograd.grad`` of the fc weight alone (as mmkd), so the only
  difference left is the per-candidate teacher: this ratio isolates what
  caching the teacher's quantities gains.

They alternate candidate by candidate in one process (order flipped each
repeat). The script checks that both give the same scores (to 1e-5
relative), prints the median seconds per candidate of each side and the
ratios (reference / mmkd = candidates per second gained), and the whole-space
estimate for 64 candidates.
"""
import argparse
import copy
import statistics
import time
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_NAMES = ['111', '135', '333', '353', '517', '555', '557', '735',
                 '757', '777']


def gaussian_init(model: nn.Module) -> None:
    """N(0, 1) conv/linear weights, zero biases, BN weight 1 / bias 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def reference_quantities(model, x, y, full_backward):
    """fc-weight gradient of CE and the pre-pooling map, in train mode.

    ``full_backward``: ``loss.backward()`` through the whole network, as
    the authors' code; otherwise ``autograd.grad`` of the fc weight only.
    """
    model.train()
    feat = model.backbone(x)[-1]
    logits = model.head.fc(feat.mean(dim=(2, 3)))
    loss = F.cross_entropy(logits, y)
    if full_backward:
        model.zero_grad(set_to_none=True)
        loss.backward()
        grad = model.head.fc.weight.grad.detach().clone()
    else:
        grad = torch.autograd.grad(loss, model.head.fc.weight)[0]
    return grad, feat.detach()


def reference_score(teacher, student, x, y, teacher_seed, student_seed,
                    full_backward=True):
    """-(M_s + M_r), teacher re-initialised and run for this candidate."""
    torch.manual_seed(teacher_seed)
    teacher = copy.deepcopy(teacher)
    gaussian_init(teacher)
    g_t, a_t = reference_quantities(teacher, x, y, full_backward)
    torch.manual_seed(student_seed)
    gaussian_init(student)
    g_s, a_s = reference_quantities(student, x, y, full_backward)

    def semantic(g):  # [K, C] -> per class C x C, rows L2-normalised
        e = torch.einsum('kc,kd->kcd', g, g)
        return e / e.norm(dim=2, keepdim=True).clamp_min(1e-12)

    def relation(a):
        a = a.flatten(1)
        r = a @ a.t()
        return r / r.norm(dim=1, keepdim=True).clamp_min(1e-12)

    k, c = g_s.shape
    n = x.shape[0]
    m_s = ((semantic(g_s) - semantic(g_t))**2).sum() / (c * k)
    m_r = ((relation(a_s) - relation(a_t))**2).sum() / (n * n)
    return -float(m_s + m_r)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--teacher-depth', type=int, default=56)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--names', nargs='+', default=DEFAULT_NAMES)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    from mmengine.registry import init_default_scope

    from mmkd.datasets import CIFAR10Mini
    from mmkd.models.algorithms import build_classifier
    from mmkd.registry import PROXIES, SEARCH_SPACES
    init_default_scope('mmkd')

    space = SEARCH_SPACES.build(dict(type='CIFARResNetDepthSpace',
                                     num_classes=10))
    teacher = build_classifier(dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', depth=args.teacher_depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='CrossEntropyLoss'))), 'teacher')
    data = CIFAR10Mini(split='train', pipeline=[dict(type='PackInputs')])
    g = torch.Generator().manual_seed(args.seed)
    idx = torch.randperm(len(data), generator=g)[:args.batch].tolist()
    samples = [data[i] for i in idx]
    mean = torch.tensor([125.307, 122.961, 113.8575]).view(1, 3, 1, 1)
    std = torch.tensor([51.5865, 50.847, 51.255]).view(1, 3, 1, 1)
    x = (torch.stack([s['inputs'] for s in samples]).float() - mean) / std
    y = torch.cat([s['data_samples'].gt_label for s in samples])

    def seed_of(name):
        return (args.seed + zlib.crc32(name.encode())) % (2**31)

    def mmkd_side(name, proxy):
        start = time.perf_counter()
        seed = seed_of(name)
        torch.manual_seed(seed)
        student = build_classifier(space.to_config(name), name)
        torch.manual_seed(seed)
        score = proxy(student, x, y)
        return time.perf_counter() - start, score

    def reference_side(name, full_backward):
        start = time.perf_counter()
        seed = seed_of(name)
        torch.manual_seed(seed)
        student = build_classifier(space.to_config(name), name)
        score = reference_score(teacher, student, x, y, args.seed, seed,
                                full_backward)
        return time.perf_counter() - start, score

    def run(side, name):
        if side == 'mmkd':
            return mmkd_side(name, proxy)
        return reference_side(name, side == 'reference')

    proxy = PROXIES.build(dict(type='DisWOT'))
    start = time.perf_counter()
    torch.manual_seed(args.seed)
    proxy.prepare(teacher, x, y)
    prepare_s = time.perf_counter() - start
    sides = ['mmkd', 'reference', 'reference_fc']
    for side in sides:  # warm-up
        run(side, args.names[0])
    times = {side: [] for side in sides}
    worst = 0.0
    for r in range(args.repeats):
        for name in args.names:
            scores = {}
            for side in (sides if r % 2 == 0 else sides[::-1]):
                t, scores[side] = run(side, name)
                times[side].append(t)
            for side in sides[1:]:
                rel = abs(scores['mmkd'] - scores[side]) / max(
                    1e-12, abs(scores[side]))
                worst = max(worst, rel)
                if rel > 1e-5:
                    raise SystemExit(f'score mismatch for {name}: mmkd '
                                     f'{scores["mmkd"]!r} vs {side} '
                                     f'{scores[side]!r}')
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f'teacher CIFAR ResNet-{args.teacher_depth}, batch {args.batch}, '
          f'{len(args.names)} S1 candidates x {args.repeats} repeats, '
          f'torch threads {torch.get_num_threads()}')
    print(f'scores identical: max relative difference {worst:.2e}')
    print(f'mmkd teacher prepare (once): {prepare_s:.3f} s')
    print(f"median s/candidate  mmkd {med['mmkd']:.3f}  reference "
          f"{med['reference']:.3f}  reference_fc {med['reference_fc']:.3f}")
    print(f"speed-up vs reference (per-candidate teacher, full backward as "
          f"the authors): {med['reference'] / med['mmkd']:.2f}x")
    print(f"speed-up vs reference_fc (per-candidate teacher, fc-only "
          f"gradient): {med['reference_fc'] / med['mmkd']:.2f}x")
    print(f"64-candidate S1 scoring estimate: mmkd "
          f"{64 * med['mmkd'] + prepare_s:.1f} s, reference "
          f"{64 * med['reference']:.1f} s")


if __name__ == '__main__':
    main()
