"""mmkd: a knowledge-distillation toolbox on mmengine and mmpretrain."""
from .utils.checkpoint import register_safe_globals
from .version import __version__

# mmengine 0.10.7 checkpoints need a few allow-listed types under torch's
# weights_only loading (see mmkd/utils/checkpoint.py).
register_safe_globals()

__all__ = ['__version__']
