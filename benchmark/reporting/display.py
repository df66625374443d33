"""Display metadata of methods and datasets, read from the wings' registries, and the row/column
order of tables and figures.

The registered classes carry their own metadata — a method class its ``display_name``,
``order``, ``color`` and ``marker``; a dataset entry its ``display_name`` and ``order`` — so
reports and plots never keep per-method tables. A name that is not registered (a plugin
that is not installed, a ``files:PATH`` dataset) is shown as it is and sorted after the
registered ones; plots derive its colour and marker from the name. The registries are
imported on first use (the methods wing imports torch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported by the caller that passes a frame
    import pandas as pd

TASK_LABELS = {"i2t": "I→T", "t2i": "T→I"}


def _method(name: str) -> Any:
    from xbench import methods

    return methods.registry.get(name) if name in methods.registry else None


def _dataset(name: str) -> Any:
    from xbench import datasets

    return datasets.registry.get(name) if name in datasets.registry else None


def method_order() -> tuple[str, ...]:
    """Registered method names by their classes' ``order`` (registration order breaks ties)."""
    from xbench import methods

    return tuple(sorted(methods.registry.names(), key=lambda n: methods.registry.get(n).order))


def method_name(method: str) -> str:
    """The display name of ``method`` (the registered class's ``display_name``, else ``method``)."""
    cls = _method(method)
    return (getattr(cls, "display_name", "") or method) if cls is not None else method


def method_health_note(method: str) -> str:
    """Why ``method``'s codes break the health thresholds by design (the class's ``health_note``), or ""."""
    cls = _method(method)
    return str(getattr(cls, "health_note", "") or "") if cls is not None else ""


def method_color(method: str) -> str | None:
    cls = _method(method)
    return getattr(cls, "color", None) if cls is not None else None


def method_marker(method: str) -> str | None:
    cls = _method(method)
    return getattr(cls, "marker", None) if cls is not None else None


def dataset_order() -> tuple[str, ...]:
    """Registered dataset names by their entries' ``order``."""
    from xbench import datasets

    return tuple(sorted(datasets.registry.names(), key=lambda n: datasets.registry.get(n).order))


def dataset_name(dataset: str) -> str:
    entry = _dataset(dataset)
    return (getattr(entry, "display_name", "") or dataset) if entry is not None else dataset


def method_display(method: str) -> str:
    """The display name of a method in tables and legends (``cmmq`` → ``CMMQ``)."""
    return method_name(method)


def dataset_display(dataset: str) -> str:
    """The display name of a dataset in tables and titles (``mirflickr25k`` → ``MIRFlickr-25K``)."""
    return dataset_name(dataset)


def ordered(values: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    """Distinct ``values``: those in ``preferred`` in its order, then the rest alphabetically."""
    values = list(dict.fromkeys(values))
    return [v for v in preferred if v in values] + sorted(v for v in values if v not in preferred)


def label_order(frame: pd.DataFrame) -> list[str]:
    """Row labels of a results frame: methods in the registry's order, each method's defaults first."""
    pairs = frame[["method", "label", "hparams"]].drop_duplicates()
    out: list[str] = []
    for m in ordered(pairs["method"], method_order()):
        sub = pairs[pairs["method"] == m]
        out.extend(dict.fromkeys(sorted(sub["label"], key=lambda lab: (lab.count("["), lab))))
    return out


__all__ = [
    "TASK_LABELS", "dataset_display", "dataset_name", "dataset_order", "label_order", "method_color",
    "method_display", "method_marker", "method_name", "method_order", "ordered",
]  # fmt: skip
