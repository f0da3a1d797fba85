from .hooks import DataCheckHook, RNGStateHook
from .pipeline import check_stages, format_summary, run_pipeline
from .runner import KDRunner

__all__ = [
    'KDRunner', 'RNGStateHook', 'DataCheckHook', 'run_pipeline',
    'check_stages', 'format_summary'
]
