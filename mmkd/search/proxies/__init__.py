"""Zero-cost proxies: ``score(model, inputs, labels)``, higher is better."""
from .base import BaseProxy, forward_parts, gaussian_init_
from .diswot import DisWOT, DisWOTMr, DisWOTMs
from .kd_proxy import DistillLossProxy
from .zero_cost import (FLOPs, Fisher, GradNorm, GraSP, JacobCov, NWOT,
                        Params, SNIP, SynFlow, ZenScore, count_flops,
                        count_params)

__all__ = [
    'BaseProxy', 'forward_parts', 'gaussian_init_', 'DisWOT', 'DisWOTMs',
    'DisWOTMr', 'DistillLossProxy', 'GradNorm', 'SNIP', 'SynFlow', 'NWOT',
    'JacobCov', 'GraSP', 'Fisher', 'ZenScore', 'Params', 'FLOPs',
    'count_params', 'count_flops'
]
