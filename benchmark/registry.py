"""xbench.registry — the name → entry registry shared by the three wings, with entry-point plugins.

Each wing owns one :class:`Registry` instance: ``xbench.methods.registry`` (Hasher classes),
``xbench.datasets.registry`` (:class:`~xbench.datasets.entry.DatasetEntry` objects) and
``xbench.noise.registry`` (NoiseModel classes). This module is standalone on purpose: it
lives in the core package's folder (``benchmark/``, whose ``__init__`` imports nothing but the
version string) but imports only the standard library and belongs to none of the core's rooms,
so every wing can import it without importing another wing's code or any of the core (the
one-way flow datasets → noise → methods → core stays intact). The top-level folders stay those
of the design card.

One registration style for all three wings: a wing's ``__init__`` imports its built-in
modules explicitly (a missing module is an ImportError, never a silent skip) and registers
the built-ins with :meth:`Registry.register_all`, keyed by each entry's ``name`` attribute,
in display order. Third-party packages register entries through an entry-point group
(``xbench.methods``, ``xbench.datasets``, ``xbench.noise``). The entry point may name either

* an object (a class or an entry) — registered under the entry point's name; or
* a module — importing it is expected to call ``registry.register(...)`` itself.

Entry points are loaded lazily, the first time the registry is read; a plugin that fails to
load is recorded in :attr:`Registry.plugin_errors` and does not break xbench.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownEntryError(KeyError):
    """Raised for a name that is not registered; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, valid
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        super().__init__(f"unknown {kind} '{name}'{hint}; valid: {', '.join(valid) or '(none)'}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class Registry(Generic[T]):
    """Ordered mapping of names to entries, filled by built-ins and entry points."""

    def __init__(self, kind: str, group: str):
        self.kind = kind
        self.group = group
        self._entries: dict[str, T] = {}
        self._plugins_loaded = False
        self.plugin_errors: dict[str, str] = {}

    def register(self, name: str, entry: T | None = None, *, replace: bool = False):
        """Register ``entry`` under ``name``; usable as a decorator when ``entry`` is omitted."""
        if entry is None:

            def decorator(obj: T) -> T:
                self.register(name, obj, replace=replace)
                return obj

            return decorator
        if not replace and name in self._entries and self._entries[name] is not entry:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = entry
        return entry

    def register_all(self, entries: Iterable[T]) -> None:
        """Register each entry under its ``name`` attribute (the built-ins of a wing, in order)."""
        for entry in entries:
            name = getattr(entry, "name", "")
            if not name:
                raise ValueError(f"{self.kind} entry {entry!r} has no name")
            self.register(name, entry)

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def load_plugins(self) -> None:
        """Import every entry point of this registry's group (once)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in importlib.metadata.entry_points(group=self.group):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not break xbench
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
                continue
            if not isinstance(obj, types.ModuleType) and ep.name not in self._entries:
                self.register(ep.name, obj)

    def names(self) -> list[str]:
        self.load_plugins()
        return list(self._entries)

    def get(self, name: str) -> T:
        self.load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownEntryError(self.kind, name, list(self._entries)) from None

    def __contains__(self, name: object) -> bool:
        self.load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        self.load_plugins()
        return list(self._entries.items())

    def select(self, spec: str | list[str], predicate: Callable[[T], bool] | None = None) -> list[str]:
        """Resolve ``all`` or a comma list to names, raising for unknown ones."""
        if isinstance(spec, str):
            spec = [s.strip() for s in spec.split(",") if s.strip()]
        if spec == ["all"]:
            return [n for n, e in self.items() if predicate is None or predicate(e)]
        for name in spec:
            self.get(name)
        return list(spec)
