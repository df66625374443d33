"""How clean are the samples a method selects? (Co-teaching's "label precision", per epoch.)

Methods that select training samples (small-loss selection in ``cmmq``/``cmmq-code``; the
samples transported by ``uot-rcl``'s optimal-transport step) report the training indices they
kept in the last epoch through :meth:`xbench.methods.Hasher.selected_samples`. The runner
scores them against the noise outcome, which methods never see:

* a sample is **uncorrupted** when its noisy labels equal its clean labels (in every modality
  that has its own noisy labels);
* a sample is **overlapping** when its noisy label set shares at least one class with its clean
  label set (noisy ∩ clean ≠ ∅) in every modality — the uncorrupted samples with a label, plus
  corrupted ones whose labels are still partly right, which cross-modal retrieval
  (relevant = sharing one label) still rewards.

For both kinds :func:`selection_stats` gives ``precision`` (their share among the kept
samples) and ``recall`` (the share of them that was kept). Co-teaching (Han et al., NeurIPS
2018, Fig. 3) calls the first precision "label precision". :func:`base_rates` gives the shares
in the whole training set: a selection no better than chance has precision equal to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

KEYS = (
    "selected_fraction",
    "selected_clean_precision",
    "selected_clean_recall",
    "selected_overlap_precision",
    "selected_overlap_recall",
)


def sample_kinds(
    clean: np.ndarray, noisy: np.ndarray, noisy_text: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (uncorrupted, overlapping) over the training samples (rows of N×C labels)."""
    clean = np.asarray(clean) > 0
    uncorrupted = np.ones(len(clean), dtype=bool)
    overlapping = np.ones(len(clean), dtype=bool)
    for noisy_labels in (noisy,) if noisy_text is None else (noisy, noisy_text):
        y = np.asarray(noisy_labels) > 0
        if y.shape != clean.shape:
            raise ValueError(f"noisy labels have shape {y.shape}, clean labels {clean.shape}")
        uncorrupted &= (y == clean).all(1)
        overlapping &= (y & clean).any(1)
    return uncorrupted, overlapping


def kept_mask(kept: Any, n: int) -> np.ndarray:
    """A boolean mask over ``n`` samples from kept indices or from a boolean mask of length n."""
    arr = np.asarray(kept.detach().cpu().numpy() if hasattr(kept, "detach") else kept)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"a kept mask must have shape ({n},), got {arr.shape}")
        return arr.copy()
    index = arr.astype(np.int64).ravel()
    if len(index) and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"kept indices must lie in [0, {n}), got {index.min()}..{index.max()}")
    mask = np.zeros(n, dtype=bool)
    mask[index] = True
    return mask


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def selection_stats(kept: Any, uncorrupted: np.ndarray, overlapping: np.ndarray) -> dict[str, float | None]:
    """Precision and recall of the uncorrupted / overlapping samples among the kept ones.

    None where undefined (nothing kept, or no sample of that kind)."""
    n = len(uncorrupted)
    mask = kept_mask(kept, n)
    k = int(mask.sum())
    clean_kept = int((mask & uncorrupted).sum())
    overlap_kept = int((mask & overlapping).sum())
    return {
        "selected_fraction": k / n if n else None,
        "selected_clean_precision": _ratio(clean_kept, k),
        "selected_clean_recall": _ratio(clean_kept, int(uncorrupted.sum())),
        "selected_overlap_precision": _ratio(overlap_kept, k),
        "selected_overlap_recall": _ratio(overlap_kept, int(overlapping.sum())),
    }


def base_rates(uncorrupted: np.ndarray, overlapping: np.ndarray) -> dict[str, float]:
    """Shares of uncorrupted and overlapping samples in the whole training set."""
    n = max(len(uncorrupted), 1)
    return {"clean": float(np.sum(uncorrupted)) / n, "overlap": float(np.sum(overlapping)) / n}


__all__ = ["KEYS", "base_rates", "kept_mask", "sample_kinds", "selection_stats"]
