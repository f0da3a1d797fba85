from .base import BaseDistiller, batch_labels
from .cakd import AttentionDiscriminator, CAKDDistiller, ViTTeacher
from .classifier import build_classifier
from .dih import DIHDistiller, DIHTeacher
from .dih_finetuner import HeadFinetuner, HeadSelectHook
from .dml import DMLDistiller, Peers
from .mlkd import MLKDDistiller
from .multi_teacher import MultiTeacherDistiller
from .ofd import BNMarginTeacher, OFDDistiller, bn_margin
from .self_distiller import NoTeacher, SelfDistiller
from .single_teacher import SingleTeacherDistiller
from .srd import ClassifierTeacher, SRDDistiller
from .store_teacher import StoreTeacher, StoreTeacherDistiller, store_logits
from .taps import FeatureTaps
from .teachers import Teacher, Teachers, TeacherSide, prepare_teacher

__all__ = [
    'BaseDistiller', 'batch_labels', 'AttentionDiscriminator',
    'CAKDDistiller', 'ViTTeacher', 'build_classifier', 'DIHDistiller',
    'DMLDistiller', 'Peers', 'DIHTeacher', 'HeadFinetuner', 'HeadSelectHook',
    'MLKDDistiller', 'MultiTeacherDistiller', 'NoTeacher', 'SelfDistiller',
    'BNMarginTeacher', 'OFDDistiller', 'bn_margin',
    'SingleTeacherDistiller', 'ClassifierTeacher', 'SRDDistiller',
    'FeatureTaps', 'Teacher', 'Teachers',
    'TeacherSide', 'prepare_teacher', 'StoreTeacher', 'StoreTeacherDistiller',
    'store_logits'
]
