"""Search spaces: named candidates, each an ordinary model config
(:class:`~mmkd.search.spaces.base.SearchSpace`)."""
from .backbone_args import BackboneArgSpace
from .base import SearchSpace
from .cifar_resnet_depth import CIFARResNetDepthSpace
from .macro import MacroSpace
from .nas_bench_201 import NASBench201Space

__all__ = [
    'BackboneArgSpace', 'CIFARResNetDepthSpace', 'MacroSpace',
    'NASBench201Space', 'SearchSpace'
]
