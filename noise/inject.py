"""Applying a noise spec to training labels, and the realised-noise statistics.

:func:`inject` is what the runner calls: it draws noise for the image side and — only with
``per_modality=True`` (MRL's setting, penghu-cs/MRL src/noisydataset.py L138-179) — an
independent draw for the text
side; by default both modalities share one noisy label (the CMMQ paper's setting, and
NRCH / MGSH / RSHNL's, docs/noise.md).

Seeding: the generator is ``numpy.random.default_rng([seed, crc32("KIND:RATE:MODALITY")])``,
so the same (seed, spec) always gives the same noisy labels, different seeds give different
ones (unlike Co-teaching's and the CMMQ release's hard-coded seeds, bhanML/Co-teaching
data/utils.py L174-178), and the
image side of a per-modality run equals the shared labels of the same run without it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from xbench.registry import UnknownEntryError

from .base import NoiseModel, NoiseResult, NoiseSpec, as_multihot, label_type


@dataclass
class NoiseOutcome:
    """The noisy training labels of one run and their realised statistics (JSON-safe)."""

    image: NoiseResult
    text: NoiseResult | None  # None → the text side shares ``image``
    stats: dict[str, Any]

    @property
    def shared(self) -> bool:
        return self.text is None

    @property
    def text_side(self) -> NoiseResult:
        """The text modality's labels (``image`` when shared)."""
        return self.image if self.text is None else self.text


def noise_rng(seed: int, spec: NoiseSpec, modality: str = "image") -> np.random.Generator:
    """The generator of one modality's draw (see the module docstring)."""
    key = zlib.crc32(f"{spec.kind}:{spec.rate!r}:{modality}".encode())
    return np.random.default_rng([int(seed), key])


def resolve(spec: NoiseSpec | str) -> tuple[NoiseSpec, NoiseModel]:
    """Parse ``spec`` and instantiate its model; ValueError for a bad rate or unknown type."""
    from . import registry  # the registry lives in the package

    spec = NoiseSpec.parse(spec) if isinstance(spec, str) else spec
    if not (0.0 <= spec.rate < 1.0):
        raise ValueError(f"noise '{spec}': rate must be in [0, 1), got {spec.rate:g}")
    try:
        cls = registry.get(spec.kind)
    except UnknownEntryError as exc:
        raise ValueError(f"noise '{spec}': {exc}") from None
    return spec, cls()


def _matrix_json(matrix: np.ndarray) -> list[list[float | None]]:
    return [[None if np.isnan(v) else float(v) for v in row] for row in matrix]


def _row_normalise(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), np.nan)


def realised_stats(
    clean: np.ndarray, noisy: np.ndarray, corrupted: np.ndarray, moves: np.ndarray | None = None
) -> dict[str, Any]:
    """What one draw of noise actually did (every value JSON-serialisable).

    * ``corrupted_fraction`` — fraction of samples whose label vector changed (``num_corrupted``);
    * ``bits_changed_fraction`` — fraction of the N·C label bits that differ (``bits_changed``),
      and ``bits_changed_per_corrupted`` — mean changed bits of a corrupted sample;
    * ``positives_lost`` — clean positive labels absent from the noisy labels, and
      ``positives_lost_fraction`` of all clean positives; ``negatives_gained`` — clean negatives
      present in the noisy labels, and ``negatives_gained_fraction`` of all clean negatives;
    * ``labels_per_sample_clean`` / ``_noisy`` — mean label-set size before / after;
    * ``disjoint_fraction`` — fraction of samples whose noisy set shares no label with their
      (non-empty) clean set: the corruptions that also break "share ≥ 1 label" relevance
      (LonganWANG-cs/NRCH noise/generate.py L14-32); ``empty_noisy_rows`` — samples left with no label;
    * ``transition_matrix`` — T̂[i, j] = over samples whose clean set contains class i, the
      fraction whose noisy set contains class j. For single-label data this is the usual
      row-stochastic P(ỹ = j | y = i); for multi-label data it also counts the sample's other
      labels (so it is not row-stochastic);
    * ``positive_transition_matrix`` — when the model reports ``moves`` (C×C counts of clean
      positive i ending as class j): their row-normalised form, P̂(positive i → j), the
      estimate of the model's T for multi-label data too; ``None`` otherwise.
    Rows of classes absent from the clean labels are ``None`` (NaN).
    """
    clean = np.asarray(clean).astype(bool)
    noisy = np.asarray(noisy).astype(bool)
    corrupted = np.asarray(corrupted, dtype=bool)
    n, c = clean.shape
    counts = clean.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        trans = (clean.T.astype(np.float64) @ noisy.astype(np.float64)) / np.where(
            counts > 0, counts, np.nan
        )[:, None]
    changed = clean != noisy
    labelled = clean.any(1)
    shares = (clean & noisy).any(1)
    n_corr = int(corrupted.sum())
    lost, gained = int((clean & ~noisy).sum()), int((~clean & noisy).sum())
    return {
        "num_samples": int(n),
        "num_classes": int(c),
        "label_type": label_type(clean),
        "num_corrupted": n_corr,
        "corrupted_fraction": float(corrupted.mean()) if n else 0.0,
        "bits_changed": int(changed.sum()),
        "bits_changed_fraction": float(changed.mean()) if changed.size else 0.0,
        "bits_changed_per_corrupted": float(changed[corrupted].sum() / n_corr) if n_corr else 0.0,
        "positives_lost": lost,
        "positives_lost_fraction": float(lost / max(int(clean.sum()), 1)),
        "negatives_gained": gained,
        "negatives_gained_fraction": float(gained / max(int((~clean).sum()), 1)),
        "labels_per_sample_clean": float(clean.sum(1).mean()) if n else 0.0,
        "labels_per_sample_noisy": float(noisy.sum(1).mean()) if n else 0.0,
        "disjoint_fraction": float(np.mean(labelled & ~shares)) if n else 0.0,
        "empty_noisy_rows": int(np.count_nonzero(~noisy.any(1))),
        "transition_matrix": _matrix_json(trans),
        "positive_transition_matrix": None if moves is None else _matrix_json(_row_normalise(moves)),
    }


def _checked(model: NoiseModel, clean: np.ndarray, result: NoiseResult) -> NoiseResult:
    """Guard against a (third-party) model returning malformed output."""
    noisy = np.asarray(result.noisy_labels)
    corrupted = np.asarray(result.corrupted)
    if noisy.shape != clean.shape or not np.isin(noisy, (0, 1)).all():
        raise ValueError(
            f"noise model '{model.name}' returned labels of shape {noisy.shape}, "
            f"expected {clean.shape} of 0/1"
        )
    if corrupted.shape != (len(clean),) or not np.array_equal(
        corrupted.astype(bool), (noisy != clean).any(1)
    ):
        raise ValueError(
            f"noise model '{model.name}' returned a corrupted mask that is not 'label vector changed'"
        )
    return NoiseResult(noisy.astype(np.uint8), corrupted.astype(bool), result.info)


def _side_stats(clean: np.ndarray, result: NoiseResult) -> dict[str, Any]:
    stats = realised_stats(clean, result.noisy_labels, result.corrupted, result.info.get("moves"))
    for key, value in result.info.items():  # scalar extras, e.g. bitflip's resampled_rows
        if key != "moves" and isinstance(value, (bool, int, float, str)):
            stats[key] = value
    return stats


def inject(
    labels: np.ndarray,
    spec: NoiseSpec | str,
    seed: int,
    per_modality: bool = False,
    num_classes: int | None = None,
) -> NoiseOutcome:
    """Noisy training labels for a run (never modifies ``labels``).

    ``labels``: N×C multi-hot (one-hot for single-label data) or 1-d class indices
    (``num_classes`` then fixes C, default max + 1). Raises ``ValueError`` for a rate outside
    [0, 1), an unknown type, labels that are neither multi-hot nor indices, or labels the
    model cannot handle (e.g. ``asymmetric`` with C < 2).

    ``stats`` holds ``spec``, ``model``, ``rate``, ``seed``, ``per_modality``, ``label_type``
    and either ``shared`` or ``image`` + ``text`` (each :func:`realised_stats`); with
    per-modality noise also ``modality_disagreement_fraction`` (pairs whose image and text
    noisy labels differ). A model with ``per_modality_only = True`` (``mrl``) is always drawn
    per modality.
    """
    spec, model = resolve(spec)
    per_modality = per_modality or bool(getattr(model, "per_modality_only", False))  # e.g. mrl
    clean = as_multihot(labels, num_classes)
    model.validate(clean, spec.rate)
    image = _checked(model, clean, model.apply(clean, spec.rate, noise_rng(seed, spec, "image")))
    text = (
        _checked(model, clean, model.apply(clean, spec.rate, noise_rng(seed, spec, "text")))
        if per_modality
        else None
    )
    stats: dict[str, Any] = {
        "spec": str(spec),
        "model": model.name,
        "rate": float(spec.rate),
        "seed": int(seed),
        "per_modality": bool(per_modality),
        "label_type": label_type(clean),
    }
    if text is None:
        stats["shared"] = _side_stats(clean, image)
    else:
        stats["image"] = _side_stats(clean, image)
        stats["text"] = _side_stats(clean, text)
        differ = (image.noisy_labels != text.noisy_labels).any(1)
        stats["modality_disagreement_fraction"] = float(differ.mean()) if len(differ) else 0.0
    return NoiseOutcome(image, text, stats)
