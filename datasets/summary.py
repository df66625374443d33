"""What ``xbench data check`` reports about a loaded dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base import CrossModalData, Split
from .splits import PARTS


@dataclass
class DatasetSummary:
    """Sizes, dimensions and label statistics of a dataset and its split."""

    name: str
    num_items: int
    image_kind: str
    image_shape: tuple[int, ...]
    image_dtype: str
    lazy_images: bool
    text_kind: str
    text_dim: int
    num_classes: int
    multi_label: bool
    labels_per_item: dict[str, float]  # mean, min, max
    empty_labels: int
    empty_text: int
    class_names: list[str]
    class_counts: dict[str, list[int]]  # "all" and each split part → items per class
    split_sizes: dict[str, int] = field(default_factory=dict)
    split_checksum: str = ""
    split_source: str = ""
    split_protocol: str = ""
    default_topk: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def summarize(data: CrossModalData, split: Split | None = None) -> DatasetSummary:
    """Summarise ``data`` (with ``split``, default its own)."""
    split = split if split is not None else data.split
    labels = np.asarray(data.labels)
    per_item = labels.sum(1)
    text = np.asarray(data.text)
    names = list(data.class_names) if data.class_names else [f"class{j}" for j in range(labels.shape[1])]
    counts = {"all": labels.sum(0).astype(int).tolist()}
    if split is not None:
        for part in PARTS:
            counts[part] = labels[np.asarray(getattr(split, part))].sum(0).astype(int).tolist()
    s = DatasetSummary(
        name=data.name,
        num_items=data.num_items,
        image_kind=data.image_kind,
        image_shape=tuple(int(x) for x in data.image.shape[1:]),
        image_dtype=str(np.dtype(data.image.dtype)),
        lazy_images=not isinstance(data.image, np.ndarray),
        text_kind=data.text_kind,
        text_dim=data.text_dim,
        num_classes=data.num_classes,
        multi_label=data.multi_label,
        labels_per_item={
            "mean": float(per_item.mean()) if len(per_item) else 0.0,
            "min": int(per_item.min()) if len(per_item) else 0,
            "max": int(per_item.max()) if len(per_item) else 0,
        },
        empty_labels=int((per_item == 0).sum()),
        empty_text=int((~(text != 0).any(1)).sum()),
        class_names=names,
        class_counts=counts,
        default_topk=data.default_topk,
        meta={k: v for k, v in data.meta.items() if k not in ("text_ids", "image_ids")},
    )
    if split is not None:
        s.split_sizes = split.sizes()
        s.split_checksum = split.checksum()
        s.split_source = split.source
        s.split_protocol = split.protocol
    expected = data.meta.get("expected_items")
    if expected and expected != data.num_items:
        s.warnings.append(f"{data.num_items} items, but the standard release has {expected:,}")
    expected = data.meta.get("expected_classes")
    if expected and expected != data.num_classes:
        s.warnings.append(f"{data.num_classes} classes, but the standard release has {expected}")
    expected = data.meta.get("expected_text_dim")
    if expected and expected != data.text_dim and data.text_kind == "bow":
        s.warnings.append(f"{data.text_dim}-d text, but the standard release has {expected}-d")
    if s.empty_labels:
        s.warnings.append(f"{s.empty_labels} item(s) without any label (never relevant to any query)")
    missing = [names[j] for j, c in enumerate(counts.get("train", counts["all"])) if c == 0]
    if missing:
        s.warnings.append(f"class(es) absent from the training set: {', '.join(missing)}")
    return s
