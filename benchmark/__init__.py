"""selbench: the shared harness (data, scoring, training, evaluation) every selection strategy relies on."""

__version__ = "0.1.0"
