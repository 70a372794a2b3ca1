"""The registry of pool sources: name -> loader function returning the raw examples of a data set."""

from __future__ import annotations

from collections.abc import Callable

from benchmark.registry import Registry
from benchmark.types import Example

SourceLoader = Callable[..., list[Example]]

SOURCES: Registry[SourceLoader] = Registry("pool source", entry_point_group="selbench.sources")
register_source = SOURCES.register
