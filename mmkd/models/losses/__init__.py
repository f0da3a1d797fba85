from .at import ATLoss
from .crd import CRDLoss
from .dist import DISTLoss
from .dkd import DKDLoss
from .fitnets import HintLoss
from .ickd import ICKDLoss
from .kd import KDLoss
from .pkt import PKTLoss
from .rkd import RKDLoss
from .sp import SPLoss

__all__ = [
    'KDLoss', 'HintLoss', 'ATLoss', 'SPLoss', 'RKDLoss', 'PKTLoss',
    'ICKDLoss', 'DKDLoss', 'DISTLoss', 'CRDLoss'
]
