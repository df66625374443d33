"""Applying a noise spec to training labels, and the realised-noise statistics.

:func:`inject` is what the runner calls: it draws noise for the image side and — only with
``per_modality=True`` (MRL's setting, noise.md §2.4) — an independent draw for the text
side; by default both modalities share one noisy label (the CMMQ paper's setting).
The generator is seeded from (seed, noise kind, rate, modality), so the same run config
always gives the same noisy labels and different seeds give different ones.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import NoiseResult, NoiseSpec


@dataclass
class NoiseOutcome:
    image: NoiseResult
    text: NoiseResult | None  # None → the text side shares ``image``
    stats: dict[str, Any]

    @property
    def shared(self) -> bool:
        return self.text is None


def noise_rng(seed: int, spec: NoiseSpec, modality: str = "image") -> np.random.Generator:
    key = zlib.crc32(f"{spec.kind}:{spec.rate!r}:{modality}".encode())
    return np.random.default_rng([int(seed), key])


def realised_stats(clean: np.ndarray, noisy: np.ndarray, corrupted: np.ndarray) -> dict[str, Any]:
    """Fraction of corrupted samples, of label bits changed, and the empirical transition matrix.

    The transition matrix T[i, j] is, over samples whose clean label set contains class i,
    the fraction whose noisy label set contains class j (for single-label data this is the
    usual row-stochastic matrix P(ỹ = j | y = i)). Rows of classes absent from the clean
    labels are NaN (stored as null).
    """
    clean = np.asarray(clean, dtype=np.float64)
    noisy = np.asarray(noisy, dtype=np.float64)
    n, c = clean.shape
    counts = clean.sum(0)
    trans = (clean.T @ noisy) / np.where(counts > 0, counts, np.nan)[:, None]
    return {
        "num_samples": int(n),
        "corrupted_fraction": float(np.mean(corrupted)) if n else 0.0,
        "bits_changed_fraction": float(np.mean(clean != noisy)) if n else 0.0,
        "labels_per_sample_clean": float(clean.sum(1).mean()) if n else 0.0,
        "labels_per_sample_noisy": float(noisy.sum(1).mean()) if n else 0.0,
        "transition_matrix": [[None if np.isnan(v) else float(v) for v in row] for row in trans],
    }


def inject(labels: np.ndarray, spec: NoiseSpec | str, seed: int, per_modality: bool = False) -> NoiseOutcome:
    """Noisy training labels for a run (never modifies ``labels``)."""
    from . import get  # the registry lives in the package

    spec = NoiseSpec.parse(spec) if isinstance(spec, str) else spec
    model = get(spec.kind)
    labels = np.asarray(labels, dtype=np.uint8)
    model.validate(labels, spec.rate)
    image = model.apply(labels, spec.rate, noise_rng(seed, spec, "image"))
    text = model.apply(labels, spec.rate, noise_rng(seed, spec, "text")) if per_modality else None
    stats = {"spec": str(spec), "per_modality": bool(per_modality),
             "image" if per_modality else "shared": realised_stats(labels, image.noisy_labels, image.corrupted)}
    if text is not None:
        stats["text"] = realised_stats(labels, text.noisy_labels, text.corrupted)
    return NoiseOutcome(image, text, stats)
