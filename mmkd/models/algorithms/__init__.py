from .single_teacher import SingleTeacherDistiller, build_classifier
from .taps import FeatureTaps

__all__ = ['SingleTeacherDistiller', 'FeatureTaps', 'build_classifier']
