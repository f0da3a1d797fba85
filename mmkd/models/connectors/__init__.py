from .aux_heads import DIHHead, MHKDHead, TOFDBranch
from .cakd import GLProjector, PCAProjector
from .conv import ConvConnector, LinearConnector
from .ft import Paraphraser, Translator
from .ofa import OFABranch, OFAViTBranch
from .ofd import OFDConnector
from .reviewkd import ReviewKDFusion
from .srd import SRDConnector

__all__ = [
    'DIHHead', 'MHKDHead', 'TOFDBranch', 'GLProjector', 'PCAProjector',
    'ConvConnector', 'LinearConnector', 'Paraphraser', 'Translator',
    'OFDConnector', 'ReviewKDFusion', 'SRDConnector',
    'OFABranch', 'OFAViTBranch'
]
