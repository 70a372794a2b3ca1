"""Selection strategies: one module per family, each registering itself on import."""

from strategies import diversity, kcenter, random_sampling, task_sampling, uncertainty  # noqa: F401
from strategies.base import STRATEGIES, Strategy, build_strategy, register_strategy

__all__ = ["STRATEGIES", "Strategy", "build_strategy", "register_strategy"]
