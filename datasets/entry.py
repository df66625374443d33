"""The dataset registry's entry type and lookup (including ``files:PATH``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xbench.registry import Registry

from .base import CrossModalData


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset.

    ``loader(data_root, **options)`` returns a :class:`CrossModalData` with its split set.
    ``available(data_root)`` says whether the dataset's files are present under the data
    root (the embedded ``synthetic`` is always available). ``paper`` marks the datasets of the
    CMMQ paper, which ``xbench run`` uses by default when their files are found.
    ``display_name`` and ``order`` are the display metadata reports read from the registry.
    """

    name: str
    loader: Callable[..., CrossModalData]
    description: str
    available: Callable[[Path], bool] = lambda root: False
    paper: bool = False
    expected_files: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    display_name: str = ""  # table/figure name ("" = ``name``)
    order: int = 1000  # position in tables (lower first)


registry: Registry[DatasetEntry] = Registry("dataset", "xbench.datasets")


def get(name: str) -> DatasetEntry:
    """Return the entry for ``name``. ``files:PATH`` is served by the ``files`` entry."""
    if name.startswith("files:"):
        return registry.get("files")
    return registry.get(name)


def load(name: str, data_root: str | Path = "data", **options: Any) -> CrossModalData:
    """Load a dataset by name (``files:PATH`` passes PATH to the generic loader)."""
    root = Path(data_root)
    if name.startswith("files:"):
        return registry.get("files").loader(root, path=name[len("files:") :], **options)
    return registry.get(name).loader(root, **options)


def default_datasets(data_root: str | Path) -> list[str]:
    """The paper's datasets found under ``data_root``, in registry order."""
    root = Path(data_root)
    return [n for n, e in registry.items() if e.paper and e.available(root)]
