"""Selection strategies: one module per family, each registering itself when the registry first
looks a name up (``STRATEGIES.builtin_modules``)."""

from strategies.base import STRATEGIES, Strategy, build_strategy, register_strategy

__all__ = ["STRATEGIES", "Strategy", "build_strategy", "register_strategy"]
