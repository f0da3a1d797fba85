from .ab import ABLoss
from .at import ATLoss
from .cakd import CAKDLoss
from .cc import CCLoss
from .crd import CRDLoss
from .ctkd import GlobalTemperature, InstanceTemperature
from .dih import CohortKDLoss
from .diswot import DisWOTRelationLoss, DisWOTSemanticLoss
from .dist import DISTLoss
from .dkd import DKDLoss
from .dml import PeerCELoss
from .fitnets import HintLoss
from .fsp import FSPLoss
from .ft import FTLoss, ParaphraserReconstructionLoss
from .ickd import ICKDLoss
from .kd import KDLoss
from .kdsvd import KDSVDLoss
from .mhkd import MHKDHeadLoss
from .mlkd import MLKDLoss
from .nst import NSTLoss
from .ofa import OFALoss
from .ofd import OFDLoss
from .pkt import PKTLoss
from .reviewkd import HCLLoss
from .rkd import RKDLoss
from .sp import SPLoss
from .srd import SoftmaxRegressionLoss
from .tofd import TOFDLoss
from .vid import VIDLoss
from .wkd import WKDLogitLoss

__all__ = [
    'ABLoss', 'ATLoss', 'CAKDLoss', 'CCLoss', 'CRDLoss', 'CohortKDLoss',
    'DisWOTRelationLoss', 'DisWOTSemanticLoss', 'DISTLoss', 'DKDLoss',
    'HintLoss', 'FSPLoss', 'FTLoss', 'ParaphraserReconstructionLoss',
    'ICKDLoss', 'KDLoss', 'KDSVDLoss', 'MHKDHeadLoss', 'NSTLoss', 'PKTLoss',
    'RKDLoss', 'SPLoss', 'TOFDLoss', 'VIDLoss', 'GlobalTemperature',
    'InstanceTemperature', 'MLKDLoss', 'PeerCELoss', 'WKDLogitLoss',
    'OFDLoss', 'HCLLoss', 'SoftmaxRegressionLoss', 'OFALoss'
]
