"""OFA-KD's stage branches into the logit space (Hao et al., NeurIPS 2023)."""
import torch
import torch.nn as nn

from mmkd.registry import CONNECTORS


class SepConv(nn.Module):
    """Two depthwise-separable 3x3 convs, the first with stride 2, each
    followed by BN and ReLU (the official ``SepConv``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        c = in_channels
        self.op = nn.Sequential(
            nn.Conv2d(c, c, 3, 2, 1, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False),
            nn.Conv2d(c, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


@CONNECTORS.register_module()
class OFABranch(nn.Module):
    """A CNN student stage projected into the logit space.

    ``num_downsample`` :class:`SepConv` blocks (each halves the size and
    doubles the channels; the last one outputs ``out_channels``), or, with
    ``num_downsample=0`` (the last stage), a 1x1 conv to ``out_channels``;
    then global average pooling and a linear classifier to
    ``num_classes``. The official branch for stage ``s`` of a 4-stage CNN
    has ``4 - s`` SepConvs and ``out_channels = max(C_S, C_T)``, the larger
    of the student's and teacher's final feature sizes. Initialisation as
    the official ``init_weights``: convs He-normal (fan-out), BN 1 / 0,
    linear truncated normal (std 0.02), bias 0.

    Args:
        in_channels (int): Channels of the student's stage map.
        out_channels (int): Channels before pooling (``max(C_S, C_T)``).
        num_classes (int): The teacher's classes.
        num_downsample (int): SepConv blocks (0 for the last stage).

    Examples:
        >>> branch = OFABranch(64, 512, 1000, num_downsample=3)
        >>> branch(torch.randn(2, 64, 56, 56)).shape
        torch.Size([2, 1000])
    """

    def __init__(self, in_channels: int, out_channels: int, num_classes: int,
                 num_downsample: int) -> None:
        super().__init__()
        if num_downsample < 0:
            raise ValueError('OFABranch: num_downsample must be >= 0 (the '
                             'number of stages after this one), got '
                             f'{num_downsample}.')
        self.in_channels = in_channels
        if num_downsample == 0:
            blocks = [nn.Conv2d(in_channels, out_channels, 1)]
        else:
            blocks, c = [], in_channels
            for i in range(num_downsample):
                last = i == num_downsample - 1
                blocks.append(SepConv(c, out_channels if last else 2 * c))
                c *= 2
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(out_channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'OFABranch expects [N, {self.in_channels}, H, W], got '
                f'{tuple(x.shape)}; set in_channels to the stage\'s '
                'channels.')
        return self.fc(self.blocks(x).mean((2, 3)))
