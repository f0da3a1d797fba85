"""What a search space is, and how it can tell a candidate's cost without
building it.

A space names its candidates and turns a name into an ordinary model
config. :meth:`SearchSpace.cost` may also say a candidate's parameters and
FLOPs from the space's own description; the search then checks budgets
and records costs without building the candidate (an exhaustive
NAS-Bench-201 search with a budget filters all 15,625 cells in seconds).
S1 and NAS-Bench-201 measure a few calibration nets once and add their
parts; the macro space counts its convs and norms as mmengine does; a
space that cannot say it exactly (``BackboneArgSpace``: any backbone)
returns None and the search builds the candidate and counts (mmengine's
counter, once per candidate). Each estimate is tested equal to mmengine's
count on built samples (``tests/test_search/test_space_costs.py``).
"""
import abc
import random
from functools import lru_cache
from typing import List, Optional, Tuple

Cost = Tuple[int, int]


@lru_cache(maxsize=None)
def _measure(config_json: str, input_shape: tuple) -> Cost:
    import json

    import torch

    from mmkd.models.algorithms import build_classifier
    from mmkd.search.proxies import count_flops, count_params
    with torch.random.fork_rng(devices=[]):
        model = build_classifier(json.loads(config_json), 'search space')
    return count_params(model), count_flops(model, input_shape)


def measure(config: dict, input_shape: tuple) -> Cost:
    """``(params, FLOPs of one sample)`` of a classifier config, built and
    counted with mmengine's counter (cached per config and shape)."""
    import json
    return _measure(json.dumps(config, sort_keys=True), tuple(input_shape))


def add_costs(*terms: Tuple[int, Cost]) -> Cost:
    """``sum(k * cost)`` of ``(k, cost)`` terms."""
    return (sum(k * c[0] for k, c in terms), sum(k * c[1] for k, c in terms))


def diff(a: Cost, b: Cost) -> Cost:
    return a[0] - b[0], a[1] - b[1]


class SearchSpace(abc.ABC):
    """A set of named candidates, each an ``ImageClassifier`` config."""

    @abc.abstractmethod
    def names(self) -> List[str]:
        """Every candidate, in a fixed order (for exhaustive search)."""

    @abc.abstractmethod
    def sample(self, rng: random.Random) -> str:
        """A uniformly random candidate."""

    @abc.abstractmethod
    def mutate(self, name: str, rng: random.Random) -> str:
        """A neighbour of ``name``."""

    @abc.abstractmethod
    def to_config(self, name: str) -> dict:
        """The candidate's model config."""

    def cost(self, name: str, input_shape: tuple) -> Optional[Cost]:
        """``(params, FLOPs of one sample)`` of a candidate, from the
        space's description, exactly as mmengine's counter gives them on
        the built model; None where the space cannot say it exactly."""
        return None
