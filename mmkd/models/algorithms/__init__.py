from .base import BaseDistiller, batch_labels
from .cakd import AttentionDiscriminator, CAKDDistiller, ViTTeacher
from .classifier import build_classifier
from .dih import DIHDistiller, DIHTeacher
from .dih_finetuner import HeadFinetuner, HeadSelectHook
from .multi_teacher import MultiTeacherDistiller
from .single_teacher import SingleTeacherDistiller
from .store_teacher import StoreTeacher, StoreTeacherDistiller, store_logits
from .taps import FeatureTaps
from .teachers import Teacher, Teachers, TeacherSide, prepare_teacher

__all__ = [
    'BaseDistiller', 'batch_labels', 'AttentionDiscriminator',
    'CAKDDistiller', 'ViTTeacher', 'build_classifier', 'DIHDistiller',
    'DIHTeacher', 'HeadFinetuner', 'HeadSelectHook', 'MultiTeacherDistiller',
    'SingleTeacherDistiller', 'FeatureTaps', 'Teacher', 'Teachers',
    'TeacherSide', 'prepare_teacher', 'StoreTeacher', 'StoreTeacherDistiller',
    'store_logits'
]
