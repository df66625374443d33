"""Interface of label-noise models and the ``TYPE:RATE`` spec they are addressed by.

A noise model maps clean training labels (N×C uint8 multi-hot) to noisy labels and a
per-sample ``corrupted`` mask, given a rate ρ ∈ [0, 1) and a ``numpy.random.Generator``.
It never modifies its input. Definitions and their sources: docs/noise.md.

Label formats (:func:`as_multihot`)
    * an N×C array of 0/1 (any integer, bool or float dtype) — multi-hot; single-label data
      is one-hot;
    * a 1-d array of non-negative integer class indices — converted to one-hot with
      ``xbench.datasets.labels_to_multihot`` (C = ``num_classes`` or max index + 1).
    Anything else (other values, 3-d arrays, NaN, negative indices) is a ``ValueError``.

Single- vs multi-label (:func:`label_type`)
    The data is *single-label* when **every** row has exactly one positive, otherwise
    *multi-label*. The built-in models are written per positive label (or per row), so on
    single-label data they reduce exactly to the classic single-label definitions (one draw
    per sample); ``label_type`` is recorded in the realised statistics.

``corrupted``
    Always ``noisy_row != clean_row`` (the sample's label vector changed). A draw that
    leaves the vector as it was (e.g. two positives swapped into each other) is not counted.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from xbench.datasets import labels_to_multihot


@dataclass(frozen=True)
class NoiseSpec:
    """A parsed ``TYPE:RATE`` (``none`` alone is allowed).

    ``TYPE`` is matched case-insensitively; ``RATE`` is the nominal noise rate ρ ∈ [0, 1).
    ``none``, ``clean``, ``none:0`` and the empty string all mean "no noise".
    """

    kind: str
    rate: float = 0.0

    def __str__(self) -> str:
        return "none" if self.kind == "none" else f"{self.kind}:{self.rate:g}"

    @classmethod
    def parse(cls, text: str) -> NoiseSpec:
        """Parse ``symmetric:0.6`` (or ``none``); raises ValueError with a clear message.

        The type is not looked up here (see :func:`xbench.noise.resolve`); the rate is checked.
        """
        text = str(text).strip()
        if text.lower() in ("none", "clean", ""):
            return cls("none", 0.0)
        kind, sep, rate = text.partition(":")
        kind = kind.strip().lower()
        if not sep:
            raise ValueError(f"noise '{text}': expected TYPE:RATE, e.g. symmetric:0.6")
        if not kind:
            raise ValueError(f"noise '{text}': missing TYPE before ':', e.g. symmetric:0.6")
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(f"noise '{text}': rate '{rate.strip()}' is not a number") from None
        if not (0.0 <= value < 1.0):
            raise ValueError(f"noise '{text}': rate must be in [0, 1), got {rate.strip()}")
        if kind in ("none", "clean"):
            if value != 0.0:
                raise ValueError(f"noise '{text}': 'none' takes no rate (use none or none:0)")
            return cls("none", 0.0)
        return cls(kind, value)


@dataclass
class NoiseResult:
    """Noisy labels, the per-sample corrupted mask, and model-specific extras.

    ``info`` may hold ``"moves"``: a C×C int64 count matrix, entry (i, j) = how many clean
    positives of class i ended as class j (kept positives count on the diagonal). Models that
    move positive labels (``none``, ``symmetric``, ``asymmetric``, ``swap``) record it; its
    row-normalised form is the per-positive empirical transition matrix of the realised
    statistics.
    """

    noisy_labels: np.ndarray  # N×C uint8
    corrupted: np.ndarray  # N bool
    info: dict[str, Any] = field(default_factory=dict)


def as_multihot(labels: Any, num_classes: int | None = None) -> np.ndarray:
    """``labels`` as an N×C uint8 multi-hot array (a new array; the input is never modified).

    Accepts multi-hot / one-hot matrices and 1-d class indices (see the module docstring);
    raises ``ValueError`` naming what was expected otherwise.
    """
    arr = np.asarray(labels)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(
            f"labels must be numeric multi-hot (N×C of 0/1) or class indices, got dtype {arr.dtype}"
        )
    if arr.ndim not in (1, 2):
        raise ValueError(f"labels must be N×C multi-hot or 1-d class indices, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError("labels contain NaN or infinite values")
    if arr.ndim == 2 and num_classes is not None and arr.shape[1] not in (1, num_classes):
        raise ValueError(f"labels have {arr.shape[1]} columns but num_classes is {num_classes}")
    try:
        out = labels_to_multihot(arr, num_classes)
    except ValueError as exc:
        raise ValueError(f"labels are neither N×C multi-hot nor class indices: {exc}") from None
    return np.array(out, dtype=np.uint8, copy=True)


def label_type(labels: np.ndarray) -> str:
    """``"single-label"`` if every row has exactly one positive, else ``"multi-label"``."""
    labels = np.asarray(labels)
    if len(labels) and bool(np.all(labels.sum(1) == 1)):
        return "single-label"
    return "multi-label"


def round_half_up(x: float) -> int:
    """round(x) with halves rounded up (Python's ``round`` would round 2.5 to 2)."""
    return math.floor(x + 0.5)


def move_counts(clean_cols: np.ndarray, dest_cols: np.ndarray, num_classes: int) -> np.ndarray:
    """C×C counts of (clean class, destination class) pairs, one pair per clean positive."""
    flat = np.asarray(clean_cols, dtype=np.int64) * num_classes + np.asarray(dest_cols, dtype=np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


class NoiseModel(abc.ABC):
    """A registered label-noise model.

    Subclasses set the class attributes shown by ``xbench list noise`` and implement
    :meth:`apply`. ``apply`` must be deterministic given the generator, must not modify
    ``labels``, and must return ``corrupted == (noisy != clean).any(1)``.
    """

    name: ClassVar[str]
    description: ClassVar[str]  # one line, shown by ``xbench list noise``
    definition: ClassVar[str] = ""  # the exact formula / procedure
    used_by: ClassVar[str] = ""  # papers that use it
    min_classes: ClassVar[int] = 1  # fewest classes the model can be applied to

    @abc.abstractmethod
    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        """Return noisy copies of ``labels`` (N×C uint8) and the corrupted mask."""

    def validate(self, labels: np.ndarray, rate: float) -> None:
        """Raise ValueError if this model cannot be applied (override for extra checks).

        ``labels`` must already be multi-hot (see :func:`as_multihot`).
        """
        if not (0.0 <= rate < 1.0):
            raise ValueError(f"{self.name}: rate must be in [0, 1), got {rate:g}")
        labels = np.asarray(labels)
        if labels.ndim != 2:
            raise ValueError(f"{self.name}: labels must be N×C multi-hot, got shape {labels.shape}")
        if labels.shape[1] < self.min_classes:
            raise ValueError(
                f"{self.name} noise needs at least {self.min_classes} classes, "
                f"the labels have {labels.shape[1]}"
            )

    def prepared(self, labels: Any, rate: float) -> np.ndarray:
        """``labels`` as a fresh multi-hot array, validated for this model (for ``apply``)."""
        out = as_multihot(labels)
        self.validate(out, rate)
        return out


class NoNoise(NoiseModel):
    """No label noise."""

    name = "none"
    description = "no label noise: training labels are the clean ones"
    definition = "ỹ = y for every sample"
    used_by = "every paper's clean baseline"

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, 0.0)
        _, cols = np.nonzero(labels)
        return NoiseResult(
            labels.copy(),
            np.zeros(len(labels), dtype=bool),
            {"moves": move_counts(cols, cols, labels.shape[1])},
        )
