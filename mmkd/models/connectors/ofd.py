"""The student-side transform of OFD (Heo et al., ICCV 2019)."""
import math

import torch.nn as nn

from mmkd.registry import CONNECTORS
from .conv import ConvConnector


@CONNECTORS.register_module()
class OFDConnector(ConvConnector):
    """OFD's connector: a bias-free 1x1 conv and BN, no ReLU.

    ``[N, C_S, H, W] -> [N, C_T, H', W']``, the official
    ``build_feature_connector``: conv weights drawn from
    ``N(0, 2 / (k^2 C_T))`` (He init, fan-out), BN weight 1 and bias 0.

    Args:
        in_channels (int): Student channels.
        out_channels (int): Teacher channels.
        stride (int): Conv stride, when the student map is larger (e.g. 2).
            Defaults to 1.

    Examples:
        >>> OFDConnector(16, 64)(torch.randn(2, 16, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, kernel_size=1,
                         stride=stride, norm_cfg=dict(type='BN'))
        k = self.conv.kernel_size[0]
        nn.init.normal_(self.conv.weight, 0,
                        math.sqrt(2. / (k * k * out_channels)))
        nn.init.ones_(self.norm.weight)
        nn.init.zeros_(self.norm.bias)
