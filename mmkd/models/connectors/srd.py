"""The student-side transform of SRD / SRRL (Yang et al., ICLR 2021)."""
import torch.nn as nn

from mmkd.registry import CONNECTORS
from .ofd import OFDConnector


@CONNECTORS.register_module()
class SRDConnector(OFDConnector):
    """SRD's ``transfer_conv``: a bias-free 1x1 conv, BN and ReLU.

    ``[N, C_S, H, W] -> [N, C_T, H, W]``; conv weights from
    ``N(0, 2 / C_T)`` (He, fan-out), BN weight 1 and bias 0, as the
    authors' code.

    Args:
        in_channels (int): Student channels.
        out_channels (int): Teacher channels (its classifier's input size).
        stride (int): Conv stride. Defaults to 1.

    Examples:
        >>> SRDConnector(64, 256)(torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 256, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int,
                 stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, stride)
        self.act = nn.ReLU()
