"""Per-term accumulation of the values a method logs over one epoch.

:class:`EpochLog` collects named values (loss terms, counters) batch by batch and returns
their means at the end of the epoch: by default the mean over the batches that reported a
value; a value given as a ``(total, weight)`` pair is averaged as Σ total / Σ weight (e.g. a
per-sample loss summed over a batch, weighted by the batch size); a callable is evaluated when
it is added. Constants (a learning
rate, a keep ratio) are set once. A name declared up front but never reported logs 0.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch


def as_float(value: Any) -> float:
    """A Python float from a float, an int or a one-element tensor (detached)."""
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    return float(value)


class EpochLog:
    """Running sums and weights (counts) of named values; :meth:`means` gives the epoch's log."""

    def __init__(self, names: Iterable[str] = ()):
        self._sums: dict[str, float] = {name: 0.0 for name in names}
        self._weights: dict[str, float] = {name: 0.0 for name in names}
        self._constants: dict[str, float] = {}

    def add(self, name: str, value: Any, weight: float = 1.0) -> None:
        """Add ``value`` (weight ``weight``) to the running sum of ``name``."""
        self._sums[name] = self._sums.get(name, 0.0) + as_float(value)
        self._weights[name] = self._weights.get(name, 0.0) + float(weight)

    def add_terms(self, terms: Mapping[str, Any], suffix: str = "") -> None:
        """Add every entry of ``terms`` (a value, a ``(total, weight)`` pair, or a callable returning
        a value, evaluated now — e.g. after an optimiser step) as ``name + suffix``."""
        for name, value in terms.items():
            if callable(value):
                value = value()
            if isinstance(value, tuple):
                self.add(name + suffix, value[0], value[1])
            else:
                self.add(name + suffix, value)

    def set(self, name: str, value: Any) -> None:
        """Log ``value`` as it is (not averaged)."""
        self._constants[name] = as_float(value)

    def update(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            self.set(name, value)

    def means(self) -> dict[str, float]:
        """Σ value / Σ weight per averaged name (0.0 for a name never reported), then the constants."""
        out = {name: self._sums[name] / max(self._weights[name], 1.0) for name in self._sums}
        out.update(self._constants)
        return out


__all__ = ["EpochLog", "as_float"]
