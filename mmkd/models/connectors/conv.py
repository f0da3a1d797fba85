"""Trainable adapters that map a student feature into the teacher's space."""
import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from mmkd.registry import CONNECTORS


@CONNECTORS.register_module()
class ConvConnector(nn.Module):
    """Convolutional regressor ``[N, C_in, H, W] -> [N, C_out, H', W']``.

    The FitNets hint regressor (Romero et al., ICLR 2015): a convolution,
    optionally followed by a norm layer and ReLU. RepDistiller's
    ``ConvReg`` is ``kernel_size=3, padding=1`` with BN and ReLU; a 1x1
    convolution without norm is the lightest choice.

    Args:
        in_channels (int): Channels of the student feature.
        out_channels (int): Channels of the teacher feature.
        kernel_size (int): Convolution kernel. Defaults to 1.
        stride (int): Convolution stride (2 halves the spatial size).
            Defaults to 1.
        norm_cfg (dict, optional): Norm layer after the convolution, e.g.
            ``dict(type='BN')``. Defaults to None.
        act (bool): Apply ReLU at the end. Defaults to False.

    Examples:
        >>> conn = ConvConnector(16, 64, kernel_size=3, norm_cfg=dict(type='BN'))
        >>> conn(torch.randn(2, 16, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 norm_cfg: dict = None,
                 act: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=norm_cfg is None)
        self.norm = build_norm_layer(norm_cfg, out_channels)[1] \
            if norm_cfg else nn.Identity()
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ConvConnector expects [N, {self.in_channels}, H, W] but got '
                f'{tuple(x.shape)}; set in_channels={x.shape[1]}'
                if x.dim() == 4 else
                f'ConvConnector expects a 4-d feature map, got {x.dim()}-d; '
                'use LinearConnector for vectors.')
        return self.act(self.norm(self.conv(x)))


@CONNECTORS.register_module()
class LinearConnector(nn.Module):
    """Linear map ``[N, ..., C_in] -> [N, ..., C_out]`` on the last dim.

    A 4-d map ``[N, C, H, W]`` is first average-pooled to ``[N, C]``.

    Args:
        in_channels (int): Student feature size.
        out_channels (int): Teacher feature size.
        bias (bool): Use a bias. Defaults to True.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, out_channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.mean(dim=(2, 3))
        if x.shape[-1] != self.in_channels:
            raise ValueError(
                f'LinearConnector expects {self.in_channels} input features '
                f'but got {tuple(x.shape)}; set in_channels={x.shape[-1]}.')
        return self.fc(x)
