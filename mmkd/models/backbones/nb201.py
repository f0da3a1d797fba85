"""The NAS-Bench-201 network: a fixed skeleton around one searched cell.

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural
Architecture Search", ICLR 2020, Sec. 2.1 and Fig. 1; DisWOT (Dong et al.,
CVPR 2023) searches this space too.
"""
import itertools
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmkd.registry import MODELS
from .base import StagedBackbone

NB201_OPS = ('none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3',
             'avg_pool_3x3')
NUM_NODES = 4  # node 0 = cell input, node 3 = cell output
# edges (to, from) in the order of the official arch string
NB201_EDGES = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))


def arch_to_ops(arch: str) -> Tuple[str, ...]:
    """The 6 edge ops of an official NB201 arch string, in edge order.

    ``'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|'
    'nor_conv_3x3~1|skip_connect~2|'`` gives the ops of the edges
    ``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``.

    Raises:
        ValueError: If ``arch`` is not such a string.
    """
    ops = []
    nodes = arch.split('+') if isinstance(arch, str) else []
    ok = len(nodes) == NUM_NODES - 1
    for i, node in enumerate(nodes if ok else []):
        if not (node.startswith('|') and node.endswith('|')):
            ok = False
            break
        inputs = node[1:-1].split('|')
        if len(inputs) != i + 1:
            ok = False
            break
        for j, item in enumerate(inputs):
            op, _, source = item.partition('~')
            if op not in NB201_OPS or source != str(j):
                ok = False
                break
            ops.append(op)
    if not ok or len(ops) != len(NB201_EDGES):
        raise ValueError(
            f'{arch!r} is not a NAS-Bench-201 arch string: give 3 nodes '
            "joined by '+', node i listing 'op~j' for j < i between bars, "
            f'ops from {NB201_OPS}, e.g. {ops_to_arch(["nor_conv_3x3"] * 6)!r}'
            '.')
    return tuple(ops)


def ops_to_arch(ops: Sequence[str]) -> str:
    """The official arch string of 6 edge ops in edge order."""
    ops = iter(ops)
    return '+'.join(
        '|' + '|'.join(f'{next(ops)}~{j}' for j in range(i)) + '|'
        for i in range(1, NUM_NODES))


def all_archs(ops: Sequence[str] = NB201_OPS) -> List[str]:
    """Every arch over ``ops`` (5 ops: 5^6 = 15,625), in a fixed order."""
    return [
        ops_to_arch(c)
        for c in itertools.product(ops, repeat=len(NB201_EDGES))
    ]


class ReLUConvBN(nn.Sequential):
    """ReLU - conv (no bias) - BN, NB201's ``nor_conv_kxk``."""

    def __init__(self, in_channels, out_channels, kernel, stride=1):
        super().__init__(
            OrderedDict(
                relu=nn.ReLU(),
                conv=nn.Conv2d(in_channels, out_channels, kernel, stride,
                               padding=kernel // 2, bias=False),
                bn=nn.BatchNorm2d(out_channels)))


class Zero(nn.Module):
    """NB201's ``none``: the edge is absent (outputs zeros)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.)


def build_op(op: str, channels: int) -> nn.Module:
    """One NB201 edge op on ``channels`` channels, stride 1."""
    if op == 'none':
        return Zero()
    if op == 'skip_connect':
        return nn.Identity()
    if op == 'nor_conv_1x1':
        return ReLUConvBN(channels, channels, 1)
    if op == 'nor_conv_3x3':
        return ReLUConvBN(channels, channels, 3)
    if op == 'avg_pool_3x3':
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f'unknown NB201 op {op!r}; use one of {NB201_OPS}.')


class NB201Cell(nn.Module):
    """A 4-node DAG cell: node ``i = sum_{j < i} op_{i<-j}(node j)``.

    Args:
        ops (Sequence[str]): The 6 edge ops in the arch string's order.
        channels (int): Channels of every node.
    """

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleDict({
            f'{i}<-{j}': build_op(op, channels)
            for (i, j), op in zip(NB201_EDGES, ops)
        })

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for i in range(1, NUM_NODES):
            nodes.append(
                sum(self.edges[f'{i}<-{j}'](nodes[j]) for j in range(i)))
        return nodes[-1]


class NB201Reduction(nn.Module):
    """NB201's residual reduction block between stages:
    ``ReLUConvBN(3x3, /2) -> ReLUConvBN(3x3) + conv1x1(avgpool2x2(x))``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(in_channels, out_channels, 3, stride=2)
        self.conv_b = ReLUConvBN(out_channels, out_channels, 3)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(2, stride=2),
            nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


@MODELS.register_module()
class NB201Net(StagedBackbone):
    """The NAS-Bench-201 skeleton with one cell repeated.

    Structure: stem = 3x3 conv (``C`` channels, no bias) + BN; ``stage1`` =
    ``N`` cells of ``C`` channels; ``stage2`` = a reduction block to ``2C``
    (stride 2) + ``N`` cells; ``stage3`` = a reduction block to ``4C`` +
    ``N`` cells; then BN + ReLU (``lastact``) on the last stage's output,
    which is the pre-pooling map the classifier's neck pools. Edge ops:
    ``none`` (zeros), ``skip_connect`` (identity), ``nor_conv_1x1`` /
    ``nor_conv_3x3`` (ReLU-conv-BN), ``avg_pool_3x3`` (stride 1, padding
    1, not counting the padding).

    Args:
        arch (str): An official NB201 arch string, e.g.
            ``'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+'
            '|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'``.
        channels (int): ``C``. Defaults to 16.
        num_cells (int): ``N``, cells per stage. Defaults to 5.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1``.
        init_cfg (dict | list[dict], optional): mmengine init config.

    Examples:
        >>> import torch
        >>> net = NB201Net('|nor_conv_3x3~0|+|none~0|skip_connect~1|+'
        ...                '|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|',
        ...                channels=4, num_cells=1)
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 32, 32))]
        [(1, 16, 8, 8)]
    """

    stage_names = ('stage1', 'stage2', 'stage3')

    def __init__(self,
                 arch: str,
                 channels: int = 16,
                 num_cells: int = 5,
                 out_indices: Union[int, Sequence[int]] = -1,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_cells, int) or num_cells < 1:
            raise ValueError('NB201Net: num_cells must be an integer >= 1, '
                             f'got {num_cells!r}.')
        self.arch = arch
        self.ops = arch_to_ops(arch)
        c = channels
        self.out_channels = (c, 2 * c, 4 * c)
        self.stem = nn.Sequential(
            OrderedDict(
                conv=nn.Conv2d(3, c, 3, padding=1, bias=False),
                bn=nn.BatchNorm2d(c)))
        for i, (name, width) in enumerate(
                zip(self.stage_names, self.out_channels)):
            layers = [NB201Reduction(width // 2, width)] if i > 0 else []
            layers += [NB201Cell(self.ops, width) for _ in range(num_cells)]
            self.add_module(name, nn.Sequential(*layers))
        self.lastact = nn.Sequential(
            OrderedDict(bn=nn.BatchNorm2d(4 * c), relu=nn.ReLU()))
        self._set_out_indices(out_indices)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the outputs of the stages in ``out_indices`` (the last
        after ``lastact``)."""
        x = self.stem(x)
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i == len(self.stage_names) - 1:
                x = self.lastact(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
