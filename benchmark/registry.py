"""Name -> object registries filled by a decorator and by installed packages' entry points."""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, ClassVar, Generic, TypeVar

from benchmark.errors import SelbenchError

T = TypeVar("T")
log = logging.getLogger(__name__)


def did_you_mean(name: str, known: list[str]) -> str:
    """A ' Did you mean ...?' hint for a mistyped name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


class Registry(Generic[T]):
    """Objects registered under unique names; third-party packages add theirs via an entry-point group.

    Built-in modules (``builtin_modules``, which register their objects when imported) and entry points
    are loaded on the first lookup, not at import: ``selbench --help`` imports no model or index library,
    and importing selbench never imports plugins.
    """

    def __init__(
        self,
        kind: str,
        entry_point_group: str | None = None,
        prepare: Callable[[str, T], T] | None = None,
        builtin_modules: tuple[str, ...] = (),
    ) -> None:
        """``prepare(name, obj)`` checks or annotates each object as it is registered, plugins included."""
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.prepare = prepare
        self.builtin_modules = builtin_modules
        self._items: dict[str, T] = {}
        self.broken: dict[str, str] = {}  # entry points that failed to import: name -> what and why
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering an object under ``name``; a second object under the same name is an error."""

        def decorate(obj: T) -> T:
            if self.prepare is not None:
                obj = self.prepare(name, obj)
            existing = self._items.get(name)
            if existing is not None and existing is not obj:
                raise SelbenchError(f"{self.kind} {name!r} is registered twice ({existing!r} and {obj!r}).")
            self._items[name] = obj
            return obj

        return decorate

    def _load(self) -> None:
        """Import the built-in modules, then register every entry point of the group. One that fails to
        import is kept in ``broken`` with its error (the others still load); one that takes a built-in's
        name is an error."""
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtin_modules:  # first: a plugin cannot take a built-in's name
            importlib.import_module(module)
        for ep in entry_points(group=self.entry_point_group) if self.entry_point_group else ():
            source = f"{ep.value} (package {ep.dist.name if ep.dist else '?'})"
            try:
                obj = ep.load()
            except Exception as err:  # a broken plugin must not hide the others
                self.broken[ep.name] = f"{source} failed to import: {type(err).__name__}: {err}"
                log.warning("%s %r from %s", self.kind, ep.name, self.broken[ep.name])
                continue
            existing = self._items.get(ep.name)
            if existing is not None and existing is not obj:
                raise SelbenchError(
                    f"{self.kind} {ep.name!r} from {source} collides with "
                    f"{getattr(existing, '__module__', '?')}.{getattr(existing, '__qualname__', existing)}: "
                    "rename the plugin's entry point."
                )
            self.register(ep.name)(obj)

    def get(self, name: str) -> T:
        """The object registered as ``name``; an unknown name lists the known ones and a close match."""
        self._load()
        if name in self.broken:
            raise SelbenchError(f"{self.kind} {name!r}: {self.broken[name]}. Fix or uninstall the plugin.")
        try:
            return self._items[name]
        except KeyError:
            known = sorted(self._items)
            raise SelbenchError(
                f"unknown {self.kind} {name!r}.{did_you_mean(name, known)} Known: {', '.join(known)}."
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __iter__(self) -> Iterator[tuple[str, T]]:
        return iter((name, self._items[name]) for name in self.names())


class Component:
    """A class registered by name whose parameters are explicit keyword arguments of ``__init__``, stored
    unchanged under the same names (scikit-learn's rule): ``type(c)(**c.get_params())`` rebuilds it."""

    name: ClassVar[str] = ""

    @classmethod
    def param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]

    def get_params(self) -> dict[str, Any]:
        return {p: getattr(self, p) for p in self.param_names()}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


C = TypeVar("C", bound=Component)


class ComponentRegistry(Registry[type[C]]):
    """A registry of ``base`` subclasses; registering checks the class and gives it its name."""

    def __init__(
        self,
        kind: str,
        base: type[C],
        entry_point_group: str | None = None,
        check: Callable[[str, type[C]], None] | None = None,
        builtin_modules: tuple[str, ...] = (),
    ) -> None:
        def prepare(name: str, cls: type[C]) -> type[C]:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise SelbenchError(
                    f"{kind} {name!r}: {cls!r} is not a subclass of selbench's {base.__name__}."
                )
            if check is not None:
                check(name, cls)
            cls.name = name
            return cls

        super().__init__(kind, entry_point_group, prepare, builtin_modules)

    def build(self, name: str, params: dict[str, Any] | None = None) -> C:
        """An instance of the class registered as ``name``; an unknown parameter is named with the known,
        a missing required one is named too."""
        cls = self.get(name)
        known = ", ".join(cls.param_names()) or "none"
        for key in params or {}:
            if key not in cls.param_names():
                raise SelbenchError(f"{self.kind} {name!r} has no parameter {key!r}; parameters: {known}.")
        signature = inspect.signature(cls.__init__).parameters.values()
        required = [p.name for p in signature if p.default is p.empty and p.kind is p.KEYWORD_ONLY]
        missing = [p for p in required if p not in (params or {})]
        if missing:
            raise SelbenchError(f"{self.kind} {name!r} needs the parameter {missing[0]!r}: give it a value.")
        return cls(**(params or {}))
