"""Data sources: pools of task-labelled instruction examples and MMLU as evaluation data.

Importing this package registers the built-in pool sources.
"""

from benchmark.data import dolly, flan, generic, niv2, synthetic  # noqa: F401  (registration)
from benchmark.data.pools import LoadedPool, PoolSpec, load_pool
from benchmark.data.sources import SOURCES, register_source

__all__ = ["SOURCES", "LoadedPool", "PoolSpec", "load_pool", "register_source"]
