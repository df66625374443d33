"""The built-in methods' metadata read from their source, without importing them (or torch).

``xbench list methods`` shows each registered method's name, description, paper, supported code
lengths, default epochs and hyperparameters. Those live as class attributes of the method classes
(the single source of truth, issue 16), but importing the classes imports torch (seconds). This
module reads the same attributes statically: it parses ``xbench/methods/__init__.py`` for the
``BUILTINS`` tuple, follows each name to its ``class`` statement and evaluates the literal
class-body assignments (inherited ones through the base classes), with a small evaluator that
knows constants, containers, ``**`` spreads, arithmetic, f-strings, module-level names (also
imported from sibling modules), argument-free helper functions that only ``return`` an
expression, ``Hyper(...)`` declarations and a few pure built-ins.

Anything else raises :class:`StaticReadError`; the caller then imports the methods as before, so
the output never depends on which path ran (``tests/test_method_catalog.py`` checks that both give
identical listings for every built-in).
"""

from __future__ import annotations

import ast
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MethodInfo", "StaticHyper", "StaticReadError", "builtin_methods", "read_methods"]

#: Hasher attributes read for the listing, with the base class's defaults when no class sets them.
_FIELDS = ("name", "paper", "description", "supported_bits", "default_epochs", "hyperparameters")
_PURE_BUILTINS = {
    f.__name__: f
    for f in (tuple, list, dict, set, frozenset, sorted, min, max, float, int, str, abs, round, len)
}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}
_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: +a, ast.Not: lambda a: not a}


class StaticReadError(Exception):
    """The source uses a construct the static reader does not evaluate (the caller imports instead)."""


@dataclass(frozen=True)
class StaticHyper:
    """The fields of ``xbench.methods.hyper.Hyper`` (same order), read from source."""

    default: Any
    source: str
    help: str = ""
    features_default: Any = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class MethodInfo:
    """What ``xbench list methods`` shows of one registered method class."""

    name: str
    paper: str
    description: str
    supported_bits: str
    default_epochs: int
    hyperparameters: dict[str, StaticHyper] = field(default_factory=dict)

    def defaults(self, features_mode: bool = True) -> dict[str, Any]:
        """As ``Hasher.defaults``: the features-mode default where one is declared."""
        return {
            k: (h.features_default if features_mode and h.features_default is not None else h.default)
            for k, h in self.hyperparameters.items()
        }


@dataclass(frozen=True)
class _Ref:
    """A class or function definition found in a module (not evaluated)."""

    module: _Module
    node: ast.ClassDef | ast.FunctionDef


class _Module:
    """One parsed source file of the package and the top-level names it binds."""

    def __init__(self, reader: _Reader, name: str):
        self.reader, self.name = reader, name
        path = reader.root / (f"{name}.py" if name != "__init__" else "__init__.py")
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, SyntaxError) as exc:
            raise StaticReadError(f"{path}: {exc}") from None
        self.assigned: dict[str, ast.expr] = {}
        self.defined: dict[str, ast.ClassDef | ast.FunctionDef] = {}
        self.imported: dict[str, tuple[str, str]] = {}  # local name → (sibling module, name)
        self.modules: dict[str, Any] = {}
        self._cache: dict[str, Any] = {}
        self.updates: dict[str, list[ast.expr]] = {}  # NAME.update(expr) statements, in order
        self.tainted: set[str] = set()  # names touched by a statement the reader does not follow
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                self._bind(node.targets[0].id, node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                self._bind(node.target.id, node.value)
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                self.defined[node.name] = node
            elif (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "update"
                and isinstance(node.value.func.value, ast.Name)
                and node.value.func.value.id in self.assigned
                and len(node.value.args) == 1
                and not node.value.keywords
            ):
                self.updates.setdefault(node.value.func.value.id, []).append(node.value.args[0])
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                pass  # docstring
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level == 1
                and node.module
                and "." not in node.module
            ):
                for alias in node.names:  # a sibling module; names from anywhere else stay unresolved
                    self.imported[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "math":
                        self.modules[alias.asname or "math"] = math
            elif not isinstance(node, (ast.ImportFrom, ast.If)):  # e.g. NAME[k] = v, NAME += ..., del NAME
                self.tainted.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))

    def _bind(self, name: str, value: ast.expr) -> None:
        if name in self.assigned or name in self.updates:  # rebinding: order-dependent, not followed
            self.tainted.add(name)
        self.assigned[name] = value

    def lookup(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name in self.tainted:
            raise StaticReadError(
                f"{self.name}.py: {name!r} is changed by a statement the reader does not follow"
            )
        if name in self.assigned:
            value = self.reader.evaluate(self.assigned[name], self)
            for update in self.updates.get(name, []):
                value.update(self.reader.evaluate(update, self))
        elif name in self.defined:
            value = _Ref(self, self.defined[name])
        elif name in self.imported:
            module, attr = self.imported[name]
            value = self.reader.module(module).lookup(attr)
        elif name in self.modules:
            value = self.modules[name]
        elif name in _PURE_BUILTINS:
            value = _PURE_BUILTINS[name]
        elif name in ("None", "True", "False"):
            value = {"None": None, "True": True, "False": False}[name]
        else:
            raise StaticReadError(f"{self.name}.py: cannot resolve the name {name!r}")
        self._cache[name] = value
        return value


class _Reader:
    """Evaluates expressions of the package's modules; caches parsed modules."""

    def __init__(self, root: Path):
        self.root = root
        self._modules: dict[str, _Module] = {}

    def module(self, name: str) -> _Module:
        if name not in self._modules:
            self._modules[name] = _Module(self, name)
        return self._modules[name]

    def evaluate(self, node: ast.expr, mod: _Module) -> Any:  # noqa: C901 - one branch per node type
        ev = self.evaluate
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return mod.lookup(node.id)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    items.extend(ev(elt.value, mod))
                else:
                    items.append(ev(elt, mod))
            return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
        if isinstance(node, ast.Dict):
            out: dict[Any, Any] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # **spread
                    out.update(ev(value, mod))
                else:
                    out[ev(key, mod)] = ev(value, mod)
            return out
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left, mod), ev(node.right, mod))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand, mod))
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    v = ev(value.value, mod)
                    v = {-1: v, 115: str(v), 114: repr(v), 97: ascii(v)}[value.conversion]
                    spec = "" if value.format_spec is None else ev(value.format_spec, mod)
                    parts.append(format(v, spec))
                else:
                    parts.append(ev(value, mod))
            return "".join(parts)
        if isinstance(node, ast.Attribute):
            base = ev(node.value, mod)
            if base is math:
                return getattr(math, node.attr)
        if isinstance(node, ast.Call):
            return self._call(node, mod)
        raise StaticReadError(
            f"{mod.name}.py line {getattr(node, 'lineno', '?')}: {type(node).__name__} not read"
        )

    def _call(self, node: ast.Call, mod: _Module) -> Any:
        func = self.evaluate(node.func, mod)
        args = [self.evaluate(a, mod) for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args) or any(k.arg is None for k in node.keywords):
            raise StaticReadError(f"{mod.name}.py line {node.lineno}: *args/**kwargs in a call")
        kwargs = {k.arg: self.evaluate(k.value, mod) for k in node.keywords}
        if isinstance(func, _Ref) and isinstance(func.node, ast.ClassDef):
            if func.node.name == "Hyper" and func.module.name == "hyper":
                return StaticHyper(*args, **kwargs)
        elif isinstance(func, _Ref) and isinstance(func.node, ast.FunctionDef):
            body = [
                s
                for s in func.node.body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            ]
            a = func.node.args
            if (
                not args
                and not kwargs
                and not (a.args or a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg)
            ):
                if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                    return self.evaluate(body[0].value, func.module)
        elif func in _PURE_BUILTINS.values() or (
            callable(func) and getattr(func, "__module__", "") == "math"
        ):
            return func(*args, **kwargs)
        raise StaticReadError(f"{mod.name}.py line {node.lineno}: call not read")

    def class_attribute(self, ref: _Ref, attr: str) -> Any:
        """``attr`` as the class (or, depth-first, a base class inside the package) sets it."""
        node = ref.node
        assert isinstance(node, ast.ClassDef)
        for stmt in reversed(node.body):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id == attr
            ):
                if stmt.value is None:
                    continue
                return self.evaluate(stmt.value, ref.module)
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and target.id == attr:
                        return self.evaluate(stmt.value, ref.module)
                    if isinstance(target, ast.Tuple) and any(
                        isinstance(e, ast.Name) and e.id == attr for e in target.elts
                    ):
                        values = self.evaluate(stmt.value, ref.module)
                        names = [e.id if isinstance(e, ast.Name) else None for e in target.elts]
                        return values[names.index(attr)]
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if stmt.name == attr:
                    raise StaticReadError(
                        f"{ref.module.name}.py: {node.name}.{attr} is computed by a function"
                    )
            elif not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr, ast.Pass)) or (
                isinstance(stmt, ast.Expr) and not isinstance(stmt.value, ast.Constant)
            ):
                if any(isinstance(n, ast.Name) and n.id == attr for n in ast.walk(stmt)):
                    raise StaticReadError(
                        f"{ref.module.name}.py: {node.name}.{attr} is changed in the class body"
                    )
        for base in node.bases:
            if isinstance(base, ast.Name):  # a base from outside the package (e.g. nn.Module) is no Name
                parent = ref.module.lookup(base.id)  # unresolved: StaticReadError (it might set attr)
                if isinstance(parent, _Ref) and isinstance(parent.node, ast.ClassDef):
                    try:
                        return self.class_attribute(parent, attr)
                    except AttributeError:
                        continue
        raise AttributeError(attr)


def builtin_methods() -> list[MethodInfo]:
    """The built-in methods (``xbench.methods.BUILTINS``, in order) read from source, torch-free.

    Raises :class:`StaticReadError` when a class uses a construct the reader does not evaluate.
    """
    spec = importlib.util.find_spec("xbench.methods")
    if spec is None or not spec.submodule_search_locations:
        raise StaticReadError("xbench.methods: package not found")
    return read_methods(Path(next(iter(spec.submodule_search_locations))))


def read_methods(package_dir: Path) -> list[MethodInfo]:
    """The classes named by ``BUILTINS`` in ``package_dir/__init__.py``, read from source."""
    reader = _Reader(Path(package_dir))
    init = reader.module("__init__")
    names = init.assigned.get("BUILTINS")
    if not isinstance(names, ast.Tuple):
        raise StaticReadError("methods/__init__.py: BUILTINS is not a tuple of names")
    try:
        return _read_classes(reader, init, names)
    except RecursionError:  # names defined in terms of each other
        raise StaticReadError(f"{package_dir}: circular definitions") from None


def _read_classes(reader: _Reader, init: _Module, names: ast.Tuple) -> list[MethodInfo]:
    out = []
    for elt in names.elts:
        ref = reader.evaluate(elt, init)
        if not (isinstance(ref, _Ref) and isinstance(ref.node, ast.ClassDef)):
            raise StaticReadError(f"methods/__init__.py: {ast.unparse(elt)} is not a class")
        values = {}
        for attr in _FIELDS:
            try:
                values[attr] = reader.class_attribute(ref, attr)
            except AttributeError:
                raise StaticReadError(f"{ref.node.name}: no {attr} attribute found") from None
        if not isinstance(values["hyperparameters"], dict) or not all(
            isinstance(h, StaticHyper) for h in values["hyperparameters"].values()
        ):
            raise StaticReadError(f"{ref.node.name}: hyperparameters is not a dict of Hyper declarations")
        out.append(MethodInfo(**values))
    return out
