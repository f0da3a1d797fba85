from .simkd import FeatureTeacher, SimKDDistiller, SimKDNeck

__all__ = ['FeatureTeacher', 'SimKDDistiller', 'SimKDNeck']
