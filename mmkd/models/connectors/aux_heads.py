"""Auxiliary classifier heads on intermediate feature maps.

- :class:`DIHHead`: DIH's intermediate classifier, one linear layer
  (Asadian & Salehi-Abari, "Distilling Knowledge via Intermediate Classifier
  Heads", arXiv 2103.00497).
- :class:`MHKDHead`: MHKD's head, two conv-BN-ReLU units and two linear
  layers (Wang et al., "Multi-head Knowledge Distillation for Model
  Compression", 2020), as DIH's comparison describes it.
- :class:`TOFDBranch`: TOFD's auxiliary branch, depthwise-separable conv
  stacks and global pooling (Zhang et al., "Task-Oriented Feature
  Distillation", NeurIPS 2020).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import CONNECTORS


@CONNECTORS.register_module()
class DIHHead(nn.Module):
    """DIH's intermediate classifier head ``[N, C, H, W] -> [N, K]``.

    ``pool=None`` (the paper): one linear layer on the flattened, unpooled
    map, ``z = W vec(x) + b`` with ``W`` of shape ``[K, C*H*W]``; no conv,
    no pooling, as the authors' ``Middle_Logit_Generator``. Its size depends
    on ``H`` and ``W``, so ``in_shape`` must be the map of the real input
    size: :class:`~mmkd.models.algorithms.dih_finetuner.HeadFinetuner` and
    ``DIHDistiller`` fill it from a dry run at their ``input_shape`` (the
    authors sized heads from a 32x32 dummy input, so their code could not
    run Tiny-ImageNet's 64x64 images).

    ``pool='avg'`` or ``'max'``: adaptive pooling to ``pool_size x
    pool_size`` first, then ``Linear(C * pool_size**2 -> K)``. The size no
    longer depends on ``H, W``: the variant for large inputs (a flattened
    64x64x64 map would need a 262144 x K matrix).

    Args:
        in_shape (Sequence[int]): ``(C, H, W)`` of the map the head reads.
        num_classes (int): Number of classes ``K``.
        pool (str, optional): None (flatten the map), ``'avg'`` or
            ``'max'``. Defaults to None.
        pool_size (int): Output size of the pooling. Defaults to 1 (global
            pooling, ``Linear(C -> K)``).

    Examples:
        >>> head = DIHHead(in_shape=(16, 32, 32), num_classes=100)
        >>> head.fc
        Linear(in_features=16384, out_features=100, bias=True)
        >>> head(torch.rand(2, 16, 32, 32)).shape
        torch.Size([2, 100])
        >>> DIHHead((64, 16, 16), 200, pool='avg').fc.in_features
        64
    """

    def __init__(self,
                 in_shape: Sequence[int],
                 num_classes: int,
                 pool: Optional[str] = None,
                 pool_size: int = 1) -> None:
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f'DIHHead: in_shape must be (C, H, W) of a '
                             f'feature map, got {tuple(in_shape)}.')
        if pool not in (None, 'avg', 'max'):
            raise ValueError(f"DIHHead: pool must be None, 'avg' or 'max', "
                             f'got {pool!r}.')
        self.in_shape = tuple(int(s) for s in in_shape)
        self.num_classes = num_classes
        self.pool = pool
        self.pool_size = pool_size
        channels, height, width = self.in_shape
        if pool is None:
            in_features = channels * height * width
        else:
            in_features = channels * pool_size * pool_size
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, K]`` of a map ``[N, C, H, W]``."""
        if x.dim() != 4 or x.shape[1] != self.in_shape[0] or (
                self.pool is None and tuple(x.shape[1:]) != self.in_shape):
            expected = ('[N, %d, %d, %d]' % self.in_shape if self.pool is None
                        else f'[N, {self.in_shape[0]}, H, W]')
            raise ValueError(
                f'DIHHead was sized for {expected} maps but got '
                f'{tuple(x.shape)}; set the algorithm\'s input_shape to the '
                "(C, H, W) of the training images, or use pool='avg'.")
        if self.pool == 'avg':
            x = F.adaptive_avg_pool2d(x, self.pool_size)
        elif self.pool == 'max':
            x = F.adaptive_max_pool2d(x, self.pool_size)
        return self.fc(x.flatten(1))


@CONNECTORS.register_module()
class MHKDHead(nn.Module):
    """MHKD's auxiliary classifier ``[N, C, H, W] -> [N, K]``.

    ``conv3x3-BN-ReLU -> conv3x3-BN-ReLU -> global average pool ->
    Linear(M, M) -> ReLU -> Linear(M, K)`` with ``M = mid_channels``.

    Both convs pad by 1. (The authors' re-implementation padded by 0, so
    every head lost 4 pixels and a 4x4 map, such as VGG's or ResNet-18's
    last stage on CIFAR, shrank to nothing.)

    Args:
        in_channels (int): Channels of the map.
        num_classes (int): Number of classes.
        mid_channels (int): Width ``M`` of the convs and the hidden linear
            layer. Defaults to 256 (the authors' value).

    Examples:
        >>> head = MHKDHead(16, 100)
        >>> head(torch.rand(2, 16, 4, 4)).shape
        torch.Size([2, 100])
    """

    def __init__(self, in_channels: int, num_classes: int,
                 mid_channels: int = 256) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels), nn.ReLU(),
            nn.Conv2d(mid_channels, mid_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels), nn.ReLU())
        self.fc1 = nn.Linear(mid_channels, mid_channels)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(mid_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'MHKDHead expects [N, {self.in_channels}, H, W] maps but got '
                f'{tuple(x.shape)}; set in_channels to the tapped map\'s '
                'channels.')
        x = self.convs(x).mean(dim=(2, 3))
        return self.fc2(self.relu(self.fc1(x)))


class SepConv(nn.Sequential):
    """Two depthwise-separable 3x3 convs (the first strided), BN + ReLU.

    ``dw3x3(stride) -> pw1x1 -> BN -> ReLU -> dw3x3 -> pw1x1(C_out) -> BN ->
    ReLU``, TOFD's (and DARTS') ``SepConv``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int = 2) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, stride, padding=1,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels), nn.ReLU(),
            nn.Conv2d(in_channels, in_channels, 3, 1, padding=1,
                      groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU())


@CONNECTORS.register_module()
class TOFDBranch(nn.Module):
    """TOFD's auxiliary branch: ``[N, C_0, H, W] -> [N, C_last]`` features.

    One :class:`SepConv` (stride 2) per step of ``channels``, then global
    average pooling. A branch on a stage plays the part of the stages after
    it: on a CIFAR ResNet-8 with widths ``(16, 32, 64)``, the branch on
    ``layer1`` is ``channels=(16, 32, 64)`` (two SepConvs, 32x32 -> 8x8),
    the branch on ``layer2`` is ``channels=(32, 64)``. Its classifier is a
    separate connector (``LinearConnector``) on its output, so the loss can
    read both the pooled feature and the logits.

    Args:
        channels (Sequence[int]): Input channels, then the output channels
            of each SepConv. One entry builds pooling only.
        stride (int): Stride of each SepConv. Defaults to 2.

    Examples:
        >>> branch = TOFDBranch(channels=(16, 32, 64))
        >>> branch(torch.rand(2, 16, 32, 32)).shape
        torch.Size([2, 64])
    """

    def __init__(self, channels: Sequence[int], stride: int = 2) -> None:
        super().__init__()
        if len(channels) < 1:
            raise ValueError('TOFDBranch: channels needs at least the input '
                             'channels.')
        self.in_channels = channels[0]
        self.out_channels = channels[-1]
        self.convs = nn.Sequential(*[
            SepConv(c_in, c_out, stride)
            for c_in, c_out in zip(channels[:-1], channels[1:])
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'TOFDBranch expects [N, {self.in_channels}, H, W] maps but '
                f'got {tuple(x.shape)}; set channels[0] to the tapped map\'s '
                'channels.')
        return self.convs(x).mean(dim=(2, 3))
