"""Interface of label-noise models and the ``TYPE:RATE`` spec they are addressed by.

A noise model maps clean training labels (N×C uint8 multi-hot) to noisy labels and a
per-sample ``corrupted`` mask (True where the sample's label vector changed), given a rate
ρ ∈ [0, 1) and a ``numpy.random.Generator``. It never modifies its input.
Definitions and their sources: ../shared/reference/noise.md.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class NoiseSpec:
    """A parsed ``TYPE:RATE`` (``none`` alone is allowed)."""

    kind: str
    rate: float = 0.0

    def __str__(self) -> str:
        return "none" if self.kind == "none" else f"{self.kind}:{self.rate:g}"

    @classmethod
    def parse(cls, text: str) -> "NoiseSpec":
        """Parse ``symmetric:0.6`` (or ``none``); raises ValueError with a clear message."""
        text = str(text).strip()
        if text in ("none", "clean", ""):
            return cls("none", 0.0)
        kind, sep, rate = text.partition(":")
        if not sep:
            raise ValueError(f"noise '{text}': expected TYPE:RATE, e.g. symmetric:0.6")
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(f"noise '{text}': rate '{rate}' is not a number") from None
        if not (0.0 <= value < 1.0):
            raise ValueError(f"noise '{text}': rate must be in [0, 1), got {value:g}")
        return cls(kind.strip(), value)


@dataclass
class NoiseResult:
    """Noisy labels, the per-sample corrupted mask, and (for shared noise) nothing else."""

    noisy_labels: np.ndarray  # N×C uint8
    corrupted: np.ndarray  # N bool
    info: dict[str, Any] = field(default_factory=dict)


class NoiseModel(abc.ABC):
    """A registered label-noise model."""

    name: ClassVar[str]
    description: ClassVar[str]  # one line, shown by ``xbench list noise``
    definition: ClassVar[str] = ""  # the exact formula / procedure
    used_by: ClassVar[str] = ""  # papers that use it

    @abc.abstractmethod
    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        """Return noisy copies of ``labels`` (N×C uint8) and the corrupted mask."""

    def validate(self, labels: np.ndarray, rate: float) -> None:
        """Raise ValueError if this model cannot be applied (override for extra checks)."""
        if not (0.0 <= rate < 1.0):
            raise ValueError(f"{self.name}: rate must be in [0, 1), got {rate:g}")


class NoNoise(NoiseModel):
    name = "none"
    description = "no label noise: training labels are the clean ones"
    definition = "ỹ = y for every sample"

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = np.asarray(labels, dtype=np.uint8)
        return NoiseResult(labels.copy(), np.zeros(len(labels), dtype=bool))
