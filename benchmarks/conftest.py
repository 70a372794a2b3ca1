"""Benchmarks (pytest-benchmark): speed ratios against baselines measured in the same run.

Not part of the test suite; run with ``pytest benchmarks/ --benchmark-only``. Sizes follow the issues'
targets; ``SELBENCH_BENCH_SCALE`` (default 1.0) shrinks them for a quick look.
"""

import os

SCALE = float(os.environ.get("SELBENCH_BENCH_SCALE", "1.0"))
