"""Typed configuration from YAML: every key checked by name and type before any expensive work.

Dataclasses describe the settings (``PoolSpec``, ``ScorerConfig``, ``TrainingConfig``, ...);
``from_mapping`` builds one from a parsed YAML mapping and fails on an unknown key, a wrong type or an
invalid value with the file, the key path (``pool.heldout_per_task``) and a hint.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml

from benchmark.data import PoolSpec
from benchmark.errors import SelbenchError
from benchmark.evaluation import EVALUATORS
from benchmark.registry import ComponentRegistry, did_you_mean
from benchmark.scoring import ScorerConfig
from benchmark.training import TrainingConfig
from strategies import STRATEGIES

T = TypeVar("T")


class ConfigError(SelbenchError):
    """A configuration value that cannot be used; the message names the key path."""


def _type_name(tp: Any) -> str:
    """How a YAML author would say the type: 'int', 'a list of str', 'null'."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):
        return "null"
    if origin in (list, tuple, Sequence):
        return f"a list of {_type_name(args[0])}" if args else "a list"
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return "a mapping"
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """``value`` checked (and, for numbers and sequences, converted) against the annotation ``tp``."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, where)
            except ConfigError:
                continue
        expected = " or ".join(_type_name(a) for a in args)
        raise ConfigError(f"{where}: expected {expected}, got {value!r}.")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {tp.__name__} settings, got {value!r}.")
        return from_mapping(tp, value, where)
    if origin in (list, tuple, Sequence):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}.")
        item = args[0] if args else Any
        items = [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}.")
        return dict(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}.")


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """An instance of the dataclass ``cls`` from ``data``; errors name ``where.<key>``."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            hint = did_you_mean(str(key), list(fields))
            raise ConfigError(f"{where}.{key}: unknown key.{hint} Known: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(hints[name], data[name], f"{where}.{name}") for name in fields if name in data}
    missing = [
        n
        for n, f in fields.items()
        if n not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where}.{missing[0]}: required key is missing.")
    try:
        return cls(**values)
    except SelbenchError as err:  # a value the dataclass itself rejects
        raise ConfigError(f"{where}: {err}") from None


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``data`` with ``a.b.c=value`` overrides applied (values parsed as YAML), as CLI flags give them."""
    for item in overrides:
        path, sep, text = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"override {item!r}: expected KEY.PATH=VALUE, e.g. training.epochs=1")
        node = data
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a mapping in the config.")
        node[leaf] = yaml.safe_load(text)
    return data


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file, or an error naming the file (and line) and the problem."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{file}: cannot be read ({err.strerror}). Fix the path.") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}{line}: not valid YAML ({getattr(err, 'problem', err)}).") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of settings.")
    return _expand_variables(data, str(file))


_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand_variables(node: Any, where: str) -> Any:
    """``${NAME}`` and ``${NAME:-default}`` in string values replaced from the environment, so a
    config can name machine-specific paths (data folders) without being edited."""
    if isinstance(node, dict):
        return {k: _expand_variables(v, f"{where}: {k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_variables(v, f"{where}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def value(match: re.Match[str]) -> str:
        name, default = match.groups()
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ConfigError(
                f"{where}: environment variable {name} is not set. Set it or write ${{{name}:-...}}."
            )
        return default

    return _VARIABLE.sub(value, node)


@dataclasses.dataclass(frozen=True)
class ComponentSpec:
    """A registered strategy or evaluator with its parameters; in YAML a bare name means ``{name: ...}``."""

    name: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """One sweep: datasets x strategies x budgets x seeds on one harness.

    ``budgets``: counts of annotated examples, fractions of the pool in (0, 1), or ``"full"``; 0 is the
    base model. Each is resolved against the pool size when the sweep is planned.
    """

    name: str
    pool: PoolSpec
    strategies: tuple[ComponentSpec, ...]
    budgets: tuple[int | float | str, ...]
    evaluators: tuple[ComponentSpec, ...]
    seeds: tuple[int, ...] = (0,)
    scorer: ScorerConfig = dataclasses.field(default_factory=ScorerConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    output_dir: str | None = None  # default: runs/<name>

    def __post_init__(self) -> None:
        if not _SIMPLE_NAME.fullmatch(self.name) or set(self.name) == {"."}:
            raise ConfigError(
                f"name: {self.name!r} names the output folder; use letters, digits, '.', '_' or '-' "
                "(no '/' or '..'), or set output_dir."
            )
        if not self.budgets:
            raise ConfigError("budgets: give at least one budget (0 is the base model).")
        for i, budget in enumerate(self.budgets):
            ok = (
                budget == "full"
                or (isinstance(budget, int) and budget >= 0)
                or (isinstance(budget, float) and 0 < budget < 1)
            )
            if not ok:
                raise ConfigError(
                    f"budgets[{i}]: {budget!r} is not a count >= 0, a fraction in (0, 1) or 'full'."
                )
        if not self.seeds:
            raise ConfigError("seeds: give at least one seed.")
        for i, seed in enumerate(self.seeds):
            if seed < 0:
                raise ConfigError(f"seeds[{i}]: {seed} must be a non-negative integer (numpy seeds are).")
        _check_names("strategies", self.strategies, STRATEGIES)
        _check_names("evaluators", self.evaluators, EVALUATORS)
        for i, spec in enumerate(self.evaluators):
            if spec.name == "heldout" and not self.pool.heldout_per_task:
                raise ConfigError(
                    f"evaluators[{i}] (heldout) scores the pool's held-out split, and pool.heldout_per_task "
                    "is 0: set it above 0 or remove the evaluator."
                )


def _check_names(key: str, specs: tuple[ComponentSpec, ...], registry: ComponentRegistry) -> None:
    """Unknown names and parameters fail now, with the key path, not after hours of work."""
    if not specs:
        raise ConfigError(f"{key}: give at least one.")
    for i, spec in enumerate(specs):
        try:
            cls = registry.get(spec.name)
            params = _typed_params(cls, spec.params, f"{key}[{i}].params")
            registry.build(spec.name, params)
        except ConfigError:
            raise
        except SelbenchError as err:
            raise ConfigError(f"{key}[{i}]: {err}") from None


def _typed_params(cls: type, params: dict[str, Any], where: str) -> dict[str, Any]:
    """``params`` checked against the annotations of ``cls.__init__`` (numbers and lists converted), so
    a parameter of the wrong type fails here with its key path rather than in every cell."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError):  # annotations this module cannot resolve: the class checks them
        return params
    return {k: _coerce(hints[k], v, f"{where}.{k}") if k in hints else v for k, v in params.items()}


def load_sweep_config(path: str | Path, overrides: Sequence[str] = ()) -> SweepConfig:
    """A validated sweep configuration from a YAML file and ``a.b=value`` overrides."""
    data = apply_overrides(load_yaml(path), overrides)
    if data.get("strategies") == "all":  # every registered strategy, plugins included
        data["strategies"] = STRATEGIES.names()
    for key in ("strategies", "evaluators"):
        if isinstance(data.get(key), list):
            data[key] = [{"name": item} if isinstance(item, str) else item for item in data[key]]
    try:
        return from_mapping(SweepConfig, data, "config")
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
