"""Training-free student search (DisWOT).

The PROXIES, SEARCH_SPACES and SEARCHERS registries are declared in
``mmkd.registry``; their members live here: ``proxies`` (zero-cost scores,
higher is better), ``spaces`` (named candidates, each an ordinary model
config) and ``searchers`` (exhaustive, random, evolution). The loop that
runs them is ``mmkd.engine.search_loop.SearchLoop``.
"""
from .proxies import (FLOPs, NWOT, SNIP, BaseProxy, DistillLossProxy, DisWOT,
                      DisWOTMr, DisWOTMs, Fisher, GradNorm, GraSP, JacobCov,
                      Params, SynFlow, ZenScore, count_flops, count_params)
from .searchers import (BaseSearcher, EvolutionSearcher, ExhaustiveSearcher,
                        RandomSearcher)
from .spaces import CIFARResNetDepthSpace

__all__ = [
    'BaseProxy', 'DisWOT', 'DisWOTMs', 'DisWOTMr', 'DistillLossProxy',
    'GradNorm', 'SNIP', 'GraSP', 'SynFlow', 'Fisher', 'JacobCov', 'NWOT',
    'ZenScore', 'Params', 'FLOPs', 'count_params', 'count_flops',
    'CIFARResNetDepthSpace', 'BaseSearcher', 'ExhaustiveSearcher',
    'RandomSearcher', 'EvolutionSearcher'
]
