from .cka_proxy import LinearCKA, centered_gram, linear_cka
from .local_searcher import LocalSearcher
from .width_space import CIFARResNetWidthSpace

__all__ = [
    'LinearCKA', 'centered_gram', 'linear_cka', 'LocalSearcher',
    'CIFARResNetWidthSpace'
]
