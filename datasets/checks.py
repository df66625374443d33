"""Validation of loaded arrays, with one-line errors that name the file and variable.

Every loader passes its arrays through these functions, so that the same problems are
reported the same way everywhere: wrong dimensionality, NaN/inf values, labels that are not
0/1, item counts that differ between modalities.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .base import labels_to_multihot
from .errors import DatasetError


def _first_bad_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask.reshape(len(mask), -1).any(1))[0])


def check_finite(arr: np.ndarray, where: str) -> None:
    """Raise if ``arr`` holds NaN or ±inf (reports how many and the first row)."""
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DatasetError(
                f"{where}: {int(bad.sum())} NaN/inf value(s) (first in row {_first_bad_row(bad)}); "
                "features must be finite"
            )


def as_features(arr: Any, where: str) -> np.ndarray:
    """A finite N×D float32 feature matrix (image or dense text features)."""
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise DatasetError(f"{where}: features must be a 2-d N×D array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DatasetError(f"{where}: features must be numeric, got dtype {arr.dtype}")
    check_finite(arr, where)
    return np.ascontiguousarray(arr, dtype=np.float32)


def is_bag_of_words(arr: np.ndarray) -> bool:
    """True when every entry is a non-negative integer (counts or 0/1 tags)."""
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return bool(arr.size == 0 or arr.min() >= 0)
    return bool(arr.size == 0 or (arr.min() >= 0 and np.all(arr == np.round(arr))))


def as_text(arr: Any, where: str) -> tuple[np.ndarray, str]:
    """(N×T text matrix, kind): ``bow`` for non-negative integers (kept as uint8 when ≤ 255, else
    float32), ``features`` for anything else (float32). NaN/inf are refused."""
    arr = np.asarray(arr)
    if arr.ndim != 2:
        raise DatasetError(f"{where}: text must be a 2-d N×T array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DatasetError(f"{where}: text must be numeric, got dtype {arr.dtype}")
    check_finite(arr, where)
    if is_bag_of_words(arr):
        if arr.size == 0 or arr.max() <= 255:
            return np.ascontiguousarray(arr, dtype=np.uint8), "bow"
        return np.ascontiguousarray(arr, dtype=np.float32), "bow"
    return np.ascontiguousarray(arr, dtype=np.float32), "features"


def as_labels(arr: Any, where: str, num_classes: int | None = None, one_based: bool = False) -> np.ndarray:
    """N×C uint8 multi-hot labels from a 0/1 matrix or a vector of class indices.

    Class indices are 0-based unless ``one_based`` (the MATLAB convention, e.g. Wikipedia's
    categories 1–10).
    """
    arr = np.asarray(arr)
    if arr.ndim == 2 and 1 in arr.shape and arr.shape[1] == 1 and (num_classes or 0) != 1:
        arr = arr.reshape(-1)
    if arr.ndim == 2 and arr.size and not np.isin(arr, (0, 1)).all():
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise DatasetError(f"{where}: labels contain NaN/inf; expected 0/1")
        bad = arr[~np.isin(arr, (0, 1))].ravel()[0]
        raise DatasetError(
            f"{where}: labels must be 0/1 multi-hot (found value {bad:g}); give class indices as a 1-d vector"
        )
    if arr.ndim == 1 and arr.size:
        if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr.astype(float)).all():
            raise DatasetError(f"{where}: class indices must be finite numbers")
        if one_based:
            arr = arr - 1
    try:
        return labels_to_multihot(arr, num_classes)
    except ValueError as exc:
        raise DatasetError(f"{where}: {exc}") from None


def check_counts(dataset: str, counts: list[tuple[str, int]]) -> int:
    """Raise unless every (description, count) agrees; returns the count."""
    values = {n for _, n in counts}
    if len(values) != 1:
        listed = ", ".join(f"{desc} {n}" for desc, n in counts)
        raise DatasetError(f"{dataset}: item counts differ between modalities/labels ({listed})")
    return values.pop()


def labels_fingerprint(labels: np.ndarray) -> str:
    """SHA-256 (first 16 hex digits) of the multi-hot label matrix: ties a features file to the
    dataset it was extracted from."""
    arr = np.ascontiguousarray(np.asarray(labels, dtype=np.uint8))
    h = hashlib.sha256()
    h.update(np.asarray(arr.shape, dtype=np.int64).tobytes())
    h.update(arr.tobytes())
    return h.hexdigest()[:16]
