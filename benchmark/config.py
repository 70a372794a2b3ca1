"""Typed configuration from YAML: every key checked by name and type before any expensive work.

Dataclasses describe the settings (``PoolSpec``, ``ScorerConfig``, ``TrainingConfig``, ...);
``from_mapping`` builds one from a parsed YAML mapping and fails on an unknown key, a wrong type or an
invalid value with the file, the key path (``pool.heldout_per_task``) and a hint.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from benchmark.data import PoolSpec
from benchmark.errors import ConfigError, SelbenchError
from benchmark.evaluation import EVALUATORS
from benchmark.models import ModelSpec
from benchmark.registry import ComponentRegistry, did_you_mean
from benchmark.settings import ScorerConfig, TrainingConfig
from benchmark.typecheck import coerce, typed_kwargs
from strategies import STRATEGIES
from strategies.base import SUBMITTED

T = TypeVar("T")


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """An instance of the dataclass ``cls`` from ``data``; errors name ``where.<key>``."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            hint = did_you_mean(str(key), list(fields))
            raise ConfigError(f"{where}.{key}: unknown key.{hint} Known: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    values = {
        name: coerce(hints[name], value, f"{where}.{name}", from_mapping) for name, value in data.items()
    }
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
    """``data`` with ``a.b.c=value`` overrides applied (values parsed as YAML), as ``--set`` gives them."""
    for item in overrides:
        path, sep, text = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE, e.g. training.epochs=1")
        try:
            value = yaml.load(text, Loader=_StrictLoader)
        except yaml.YAMLError as err:
            raise ConfigError(
                f"--set {item!r}: the value is not valid YAML ({getattr(err, 'problem', err)}). Quote it."
            ) from None
        node = data
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a mapping in the config.")
        node[leaf] = value
    return data


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error: the last one
    silently winning hides a typo'd override."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def load_yaml(path: str | Path, written: dict[str, str] | None = None) -> dict[str, Any]:
    """The top-level mapping of a YAML file, or an error naming the file (and line) and the problem;
    ``written`` collects each value with a ``${VAR}`` expanded, mapped to the text as written."""
    file = Path(path)
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as err:
        raise ConfigError(f"{file}: cannot be read ({err.strerror}). Fix the path.") from None
    except UnicodeDecodeError as err:
        line = file.read_bytes()[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"{file}:{line}: not UTF-8 text (byte {err.object[err.start]:#04x}). Save the file as UTF-8."
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}{line}: not valid YAML ({getattr(err, 'problem', err)}).") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of settings.")
    return _expand_variables(data, str(file), {} if written is None else written)


_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def _expand_variables(node: Any, where: str, written: dict[str, str]) -> Any:
    """``${NAME}`` and ``${NAME:-default}`` in string values replaced from the environment, so a
    config can name machine-specific paths (data folders) without being edited."""
    if isinstance(node, dict):
        return {k: _expand_variables(v, f"{where}: {k}", written) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_variables(v, f"{where}[{i}]", written) for i, v in enumerate(node)]
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

    expanded = _VARIABLE.sub(value, node)
    if expanded != node:
        written[expanded] = node
    return expanded


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
    # the metric each evaluator's table leads with, where not its own headline: {heldout: gold_logprob_macro}
    headline: Mapping[str, str] = dataclasses.field(default_factory=dict)
    model: ModelSpec = dataclasses.field(default_factory=ModelSpec.default)  # scored and fine-tuned
    # values expanded from ${VAR}, mapped to the text as written (set by load_sweep_config)
    as_written: Mapping[str, str] = dataclasses.field(default_factory=dict, init=False, compare=False)

    def __post_init__(self) -> None:
        # one model for the whole harness: the scorer reads it from here (and the trainer from the scorer)
        object.__setattr__(self, "scorer", dataclasses.replace(self.scorer, model=self.model))
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
        names = [spec.name for spec in self.evaluators]
        for evaluator, metric in self.headline.items():
            if evaluator not in names:
                raise ConfigError(f"headline.{evaluator}: not one of the evaluators ({', '.join(names)}).")
            known = EVALUATORS.get(evaluator).metric_names()
            if metric not in known:
                raise ConfigError(
                    f"headline.{evaluator}: {metric!r} is not a metric of {evaluator}."
                    f"{did_you_mean(metric, list(known))} Known: {', '.join(known)}."
                )
        for i, spec in enumerate(self.evaluators):
            if EVALUATORS.get(spec.name).needs_heldout and not self.pool.heldout_per_task:
                raise ConfigError(
                    f"evaluators[{i}] ({spec.name}) scores the pool's held-out split, and "
                    "pool.heldout_per_task is 0: set it above 0 or remove the evaluator."
                )


def _check_names(key: str, specs: tuple[ComponentSpec, ...], registry: ComponentRegistry) -> None:
    """Unknown names and parameters fail now, with the key path, not after hours of work."""
    if not specs:
        raise ConfigError(f"{key}: give at least one.")
    for i, spec in enumerate(specs):
        if key == "strategies" and spec.name == SUBMITTED:
            continue  # selections made elsewhere: `selbench submit` checks them against the pool
        try:
            cls = registry.get(spec.name)
            params = typed_kwargs(cls.__init__, spec.params, f"{key}[{i}].params.{{}}")
            registry.build(spec.name, params)
        except ConfigError:
            raise
        except SelbenchError as err:
            raise ConfigError(f"{key}[{i}]: {err}") from None


def load_sweep_config(path: str | Path, overrides: Sequence[str] = ()) -> SweepConfig:
    """A validated sweep configuration from a YAML file and ``a.b=value`` overrides."""
    written: dict[str, str] = {}
    return _validated(apply_overrides(load_yaml(path, written), overrides), str(path), written)


def sweep_config(data: dict[str, Any], where: str) -> SweepConfig:
    """A validated sweep configuration from a mapping of settings (a run record's ``config``, say), its
    ``${VAR}`` values expanded as in a YAML file; errors name ``where``."""
    written: dict[str, str] = {}
    return _validated(_expand_variables(data, where, written), where, written)


def _validated(data: dict[str, Any], where: str, written: dict[str, str]) -> SweepConfig:
    if isinstance(data.get("scorer"), dict) and "model" in data["scorer"]:
        raise ConfigError(
            f"{where}: scorer.model: the model is a top-level key now (`model:`), shared by scoring and "
            "fine-tuning. Move it there."
        )
    if data.get("strategies") == "all":  # every registered strategy, plugins included
        data["strategies"] = STRATEGIES.names()
    for key in ("strategies", "evaluators"):
        if isinstance(data.get(key), list):
            data[key] = [{"name": item} if isinstance(item, str) else item for item in data[key]]
    try:
        config = from_mapping(SweepConfig, data, "config")
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    object.__setattr__(config, "as_written", written)
    return config


def config_record(config: SweepConfig) -> dict[str, Any]:
    """The settings a run record stores: every one, resolved, except that values expanded from
    ``${VAR}`` are stored as written (records carry no machine's paths or environment; the pool's and
    model's content fingerprints beside them say what was actually read)."""

    def as_written(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: as_written(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [as_written(v) for v in node]
        return config.as_written.get(node, node) if isinstance(node, str) else node

    record = dataclasses.asdict(config)
    del record["as_written"]
    return as_written(record)
