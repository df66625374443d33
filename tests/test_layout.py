"""The house's layout: the core grouped into rooms with one-way dependencies, and wings that never
import the core (issue 16). Read from the source with ``ast`` (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "benchmark"
SHARED = {"xbench", "xbench._version", "xbench.errors", "xbench.registry", "xbench.atomic"}
ROOMS = {"running", "evaluating", "reporting", "cli", "perf"}
#: room -> the rooms it may import (besides itself and the shared modules and the wings)
MAY_IMPORT = {
    "evaluating": set(),
    "running": {"evaluating"},
    "reporting": {"evaluating"},
    "perf": {"running", "evaluating", "reporting"},
    "cli": {"running", "evaluating", "reporting"},
}
WINGS = {"methods": REPO / "methods", "datasets": REPO / "datasets", "noise": REPO / "noise"}


def imported_modules(path: Path, package: str) -> set[str]:
    """Absolute names of every module imported by ``path`` (``package`` resolves relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names.add(mod)
            names |= {f"{mod}.{a.name}" for a in node.names}
    return {n for n in names if n == "xbench" or n.startswith("xbench.")}


def _room_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else None


def _core_files():
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE)
        package = ".".join(["xbench", *rel.parts[:-1]])
        yield rel, package, imported_modules(path, package)


def test_the_top_of_the_core_holds_only_the_rooms_and_the_shared_modules():
    modules = {p.stem for p in CORE.glob("*.py")}
    assert modules == {"__init__", "__main__", "_version", "errors", "registry", "atomic"}
    folders = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == ROOMS


def test_rooms_depend_one_way():
    offenders = []
    for rel, _package, names in _core_files():
        room = rel.parts[0] if len(rel.parts) > 1 else None
        if room is None:  # a shared module imports no room (xbench/__main__ starts the CLI)
            allowed = {"cli"} if rel.name == "__main__.py" else set()
        else:
            allowed = MAY_IMPORT[room] | {room}
        used = {r for r in map(_room_of, names) if r is not None}
        if used - allowed:
            offenders.append(f"{rel}: imports {sorted(used - allowed)}")
    assert not offenders, offenders


@pytest.mark.parametrize("wing", sorted(WINGS))
def test_wings_never_import_the_core(wing):
    offenders = []
    for path in sorted(WINGS[wing].rglob("*.py")):
        package = ".".join(["xbench", wing, *path.relative_to(WINGS[wing]).parts[:-1]])
        core = {
            n
            for n in imported_modules(path, package)
            if n.split(".")[1:2] not in (["methods"], ["datasets"], ["noise"])
            and n not in SHARED
            and not n.startswith("xbench.registry")
        }
        if core:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(core)}")
    assert not offenders, offenders


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule above is not vacuous: a relative import two levels up is resolved to the core."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from ..reporting import tables\n    import xbench.running.runner\n")
    names = imported_modules(bad, "xbench.evaluating")
    assert {"xbench.reporting.tables", "xbench.running.runner"} <= names
    assert {_room_of(n) for n in names} >= {"reporting", "running"}
