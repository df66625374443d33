"""The cross-modal data container shared by every dataset, noise model and method.

A :class:`CrossModalData` holds one paired image–text collection:

* ``image`` — either dense features (N×D float, e.g. pooled CNN features; ``image_kind =
  "features"``) or raw images (N×3×H×W uint8; ``image_kind = "images"``). Raw images may be a
  lazy array-like (anything with ``shape`` and ``__getitem__`` over row indices) so that a
  3 GB MATLAB file is never loaded eagerly.
* ``text`` — bag-of-words counts/binary (``text_kind = "bow"``) or dense features
  (``text_kind = "features"``), N×T.
* ``labels`` — clean multi-hot labels, N×C uint8 (single-label data is one-hot).
* ``split`` — index arrays ``query`` / ``train`` / ``database`` into the N rows.

Query and database labels are always the clean ones; only training labels get noise
(as in the CMMQ release, utils/tools.py L146-163).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

IMAGE_KINDS = ("features", "images")
TEXT_KINDS = ("bow", "features")


SPLIT_PROTOCOLS = ("disjoint", "train-in-database", "query-in-database")


@dataclass(frozen=True)
class Split:
    """Index splits into a dataset's rows (int64 arrays).

    ``protocol`` states which overlaps are allowed (checked by
    :func:`xbench.datasets.splits.validate_split`):

    * ``disjoint`` — query ∩ database = ∅ and query ∩ train = ∅ (train may lie outside the
      database, e.g. the separate training block of a pre-split file);
    * ``train-in-database`` — ``disjoint`` and train ⊂ database (the DCMH/CMMQ protocol of
      MIRFlickr-25K, NUS-WIDE and MS-COCO, CMMQ paper Table 1);
    * ``query-in-database`` — query ⊂ database allowed (test-against-test retrieval), query ∩
      train = ∅.

    ``validation`` (optional): items held out for model selection (e.g. MRL's Wikipedia split),
    disjoint from the other parts; a loader sets it after :func:`~xbench.datasets.splits.validate_split`.

    The protocol is not part of :meth:`checksum`, which covers the index arrays only (the
    validation indices only when there are some).
    """

    query: np.ndarray
    train: np.ndarray
    database: np.ndarray
    source: str = ""  # how it was made, e.g. "seeded permutation (seed 0)" or a file path
    protocol: str = "disjoint"
    validation: np.ndarray | None = None

    def checksum(self) -> str:
        """A stable SHA-256 (first 16 hex digits) of the index arrays."""
        h = hashlib.sha256()
        parts = [self.query, self.train, self.database]
        if self.validation is not None and len(self.validation):
            parts.append(self.validation)
        for part in parts:
            arr = np.ascontiguousarray(np.asarray(part, dtype=np.int64))
            h.update(len(arr).to_bytes(8, "little"))
            h.update(arr.tobytes())
        return h.hexdigest()[:16]

    def sizes(self) -> dict[str, int]:
        out = {"query": len(self.query), "train": len(self.train), "database": len(self.database)}
        if self.validation is not None and len(self.validation):
            out["validation"] = len(self.validation)
        return out


def labels_to_multihot(labels: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Return N×C uint8 multi-hot labels from multi-hot or class-index input.

    A 1-d integer array is read as class indices (0-based); a 2-d array must be binary.
    Raises ``ValueError`` otherwise.
    """
    labels = np.asarray(labels)
    if labels.ndim == 1 or (labels.ndim == 2 and labels.shape[1] == 1 and num_classes not in (None, 1)):
        idx = labels.reshape(-1)
        if idx.size and (
            not np.all(np.isfinite(idx.astype(float))) or np.any(idx != np.round(idx)) or idx.min() < 0
        ):
            raise ValueError("class indices must be non-negative integers")
        idx = idx.astype(np.int64)
        c = int(num_classes if num_classes is not None else (idx.max() + 1 if idx.size else 0))
        if idx.size and idx.max() >= c:
            raise ValueError(f"class index {idx.max()} out of range for {c} classes")
        out = np.zeros((len(idx), c), dtype=np.uint8)
        out[np.arange(len(idx)), idx] = 1
        return out
    if labels.ndim != 2:
        raise ValueError(f"labels must be 1-d class indices or 2-d multi-hot, got shape {labels.shape}")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError("multi-hot labels must contain only 0 and 1")
    return labels.astype(np.uint8)


@dataclass
class CrossModalData:
    """A paired image–text dataset with clean labels and (optionally) its split."""

    name: str
    image: Any
    text: np.ndarray
    labels: np.ndarray
    image_kind: str = "features"
    text_kind: str = "bow"
    split: Split | None = None
    class_names: list[str] | None = None
    default_topk: int | None = 5000  # R of mAP@R used when reporting this dataset
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image_kind not in IMAGE_KINDS:
            raise ValueError(f"image_kind must be one of {IMAGE_KINDS}, got {self.image_kind!r}")
        if self.text_kind not in TEXT_KINDS:
            raise ValueError(f"text_kind must be one of {TEXT_KINDS}, got {self.text_kind!r}")
        n = len(self.labels)
        if self.image.shape[0] != n or self.text.shape[0] != n:
            raise ValueError(
                f"{self.name}: item counts differ (image {self.image.shape[0]}, text {self.text.shape[0]}, "
                f"labels {n})"
            )

    @property
    def num_items(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return int(self.labels.shape[1])

    @property
    def image_dim(self) -> int | tuple[int, ...]:
        return (
            int(self.image.shape[1])
            if self.image_kind == "features"
            else tuple(int(s) for s in self.image.shape[1:])
        )

    @property
    def text_dim(self) -> int:
        return int(self.text.shape[1])

    @property
    def multi_label(self) -> bool:
        return bool((np.asarray(self.labels).sum(1) > 1).any())

    def take(self, modality: str, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` of one modality ("image", "text" or "labels") as a numpy array."""
        arr = {"image": self.image, "text": self.text, "labels": self.labels}[modality]
        index = np.asarray(index)
        if isinstance(arr, np.ndarray):
            return arr[index]
        # lazy arrays (h5py datasets etc.) want sorted, unique indices
        order = np.argsort(index, kind="stable")
        rows = np.asarray(arr[np.asarray(index)[order]])
        out = np.empty_like(rows)
        out[order] = rows
        return out
