"""Retrieval metrics for ±1 hash codes (see ../shared/reference/evaluation.md §8).

Semantics: codes ±1 (output ≥ 0 → +1); Hamming distance d = (K − q·b)/2; relevance = at
least one shared label; ranking by ascending distance, ties by ascending database index;
mAP@R averages precision@rank over the hits inside the top R, a query with no hit in the
top R scores 0; R = None means the whole database.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _np(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _pm1(codes: Any) -> np.ndarray:
    c = _np(codes).astype(np.float64)
    return np.where(c >= 0, 1.0, -1.0) if c.min(initial=0) < 0 else np.where(c > 0, 1.0, -1.0)


def _multihot(labels: Any) -> np.ndarray:
    lab = _np(labels)
    if lab.ndim == 1:
        out = np.zeros((len(lab), int(lab.max()) + 1), dtype=np.float64)
        out[np.arange(len(lab)), lab.astype(int)] = 1
        return out
    return lab.astype(np.float64)


def mean_average_precision(query_codes: Any, db_codes: Any, query_labels: Any, db_labels: Any,
                           topk: int | None = None) -> float:
    """mAP@R (R = ``topk``; None = whole database)."""
    q, b = _pm1(query_codes), _pm1(db_codes)
    ql, dl = _multihot(query_labels), _multihot(db_labels)
    k = q.shape[1]
    r = b.shape[0] if topk is None else min(int(topk), b.shape[0])
    aps = []
    for i in range(q.shape[0]):
        d = (k - b @ q[i]) / 2
        order = np.argsort(d, kind="stable")[:r]
        rel = (dl[order] @ ql[i]) > 0
        hits = np.cumsum(rel)
        if hits[-1] if len(hits) else 0:
            aps.append(float(np.mean(hits[rel] / (np.flatnonzero(rel) + 1))))
        else:
            aps.append(0.0)
    return float(np.mean(aps)) if aps else 0.0


def evaluate(query_codes: Any, db_codes: Any, query_labels: Any, db_labels: Any, topk: int | None = None,
             curves: bool = True) -> dict[str, Any]:
    """All metrics of one retrieval direction as a JSON-friendly dict."""
    return {"topk": topk, "map": mean_average_precision(query_codes, db_codes, query_labels, db_labels, topk)}
