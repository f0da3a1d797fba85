from .checkpoint import (extract_state_dict, load_checkpoint_file,
                         load_model_weights, register_safe_globals)

__all__ = [
    'extract_state_dict', 'load_checkpoint_file', 'load_model_weights',
    'register_safe_globals'
]
