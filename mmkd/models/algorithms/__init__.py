from .cakd import AttentionDiscriminator, CAKDDistiller
from .dih import DIHDistiller, HeadFinetuner, HeadSelectHook
from .multi_teacher import MultiTeacherDistiller
from .single_teacher import SingleTeacherDistiller, build_classifier
from .taps import FeatureTaps

__all__ = [
    'AttentionDiscriminator', 'CAKDDistiller', 'DIHDistiller', 'HeadFinetuner',
    'HeadSelectHook', 'MultiTeacherDistiller', 'SingleTeacherDistiller',
    'build_classifier', 'FeatureTaps'
]
