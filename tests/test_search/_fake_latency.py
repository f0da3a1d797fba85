"""A deterministic stand-in for SearchLoop.measure_latency (params / 1000
ms on rank 0, 1e9 ms elsewhere), so a multi-process search only matches a
one-process search if rank 0's measurement is broadcast. Imported by
test_latency.py's configs through ``custom_imports``, which installs it in
that process."""
from mmengine.dist import get_rank

from mmkd.engine.search_loop import SearchLoop

CALLS = []


def fake_latency(self, name):
    CALLS.append(name)
    if get_rank() != 0:
        return 1e9
    return self.cost(name)[0] / 1000


SearchLoop.measure_latency = fake_latency
