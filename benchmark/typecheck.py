"""Values from YAML files and command-line flags checked against type annotations, so a wrong type
fails before any work with the key path or flag that holds it (``pool.options.examples_per_task``)."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_args, get_origin

from benchmark.errors import ConfigError
from benchmark.registry import did_you_mean


def type_name(tp: Any) -> str:
    """How a YAML author would say the type: 'int', 'a list of str', 'null'."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):
        return "null"
    if origin in (list, tuple, Sequence):
        return f"a list of {type_name(args[0])}" if args else "a list"
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return "a mapping"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def coerce(tp: Any, value: Any, where: str, build: Callable[[type, Mapping, str], Any]) -> Any:
    """``value`` checked (and, for numbers and sequences, converted) against the annotation ``tp``;
    ``build(cls, mapping, where)`` makes a nested dataclass from a mapping."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return coerce(option, value, where, build)
            except ConfigError:
                continue
        expected = " or ".join(type_name(a) for a in args)
        raise ConfigError(f"{where}: expected {expected}, got {value!r}.")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {tp.__name__} settings, got {value!r}.")
        return build(tp, value, where)
    if origin in (list, tuple, Sequence):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}.")
        item = args[0] if args else Any
        items = [coerce(item, v, f"{where}[{i}]", build) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}.")
        return dict(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where}: expected {type_name(tp)}, got {value!r}.")


def _no_dataclass(cls: type, value: Mapping, where: str) -> Any:
    raise ConfigError(f"{where}: expected a plain value, got a mapping of {cls.__name__} settings.")


def typed_kwargs(function: Callable, kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` checked against the annotations of ``function`` (a strategy's or evaluator's
    ``__init__``, a source loader); a wrong type is named ``where.format(key)`` (``params.{}``, or
    ``-p {}`` for a flag). Unannotated keys pass."""
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):  # annotations this module cannot resolve: the callee checks them
        return dict(kwargs)
    return {
        k: coerce(hints[k], v, where.format(k), _no_dataclass) if k in hints else v for k, v in kwargs.items()
    }


def check_keywords(function: Callable, kwargs: Mapping[str, Any], what: str) -> None:
    """Unknown and missing keyword arguments of ``function``, named for the user (``what``)."""
    params = {n: p for n, p in inspect.signature(function).parameters.items() if n != "self"}
    for key in kwargs:
        if key not in params:
            raise ConfigError(
                f"{what} has no option {key!r}.{did_you_mean(key, list(params))} "
                f"Its options: {', '.join(params)}."
            )
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in kwargs:
            raise ConfigError(f"{what} needs the option {name!r}.")
