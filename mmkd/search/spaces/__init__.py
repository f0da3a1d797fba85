"""Search spaces: named candidates, each an ordinary model config."""
from .cifar_resnet_depth import CIFARResNetDepthSpace

__all__ = ['CIFARResNetDepthSpace']
