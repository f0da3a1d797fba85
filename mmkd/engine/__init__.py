from .cakd import DiscriminatorOptimWrapperConstructor, LossWeightRampHook
from .dot import DOTOptimWrapper, DOTOptimWrapperConstructor
from .hooks import (DataCheckHook, LossEpochHook, RNGStateHook,
                    TeacherEvalHook)
from .pipeline import check_stages, format_summary, run_pipeline
from .runner import KDRunner, SearchRunner
from .search_loop import SearchLoop

__all__ = [
    'DiscriminatorOptimWrapperConstructor', 'LossWeightRampHook',
    'DOTOptimWrapper', 'DOTOptimWrapperConstructor',
    'DataCheckHook', 'LossEpochHook', 'RNGStateHook', 'TeacherEvalHook',
    'check_stages', 'format_summary', 'run_pipeline', 'KDRunner', 'SearchRunner',
    'SearchLoop'
]
