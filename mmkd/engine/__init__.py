from .cakd import DiscriminatorOptimWrapperConstructor, LossWeightRampHook
from .hooks import (DataCheckHook, LossEpochHook, RNGStateHook,
                    TeacherEvalHook)
from .pipeline import check_stages, format_summary, run_pipeline
from .runner import KDRunner
from .search_loop import SearchLoop  # noqa: F401

__all__ = [
    'KDRunner', 'RNGStateHook', 'TeacherEvalHook', 'DataCheckHook',
    'LossEpochHook',
    'run_pipeline', 'check_stages', 'format_summary'
]
