"""Exact retrieval metrics for real-valued embeddings: cosine and Euclidean ranking.

MRL (Hu et al., CVPR 2021) and the classical baselines of its Table 1 (CCA, PLS, …) are
evaluated on real-valued common representations, ranked by cosine similarity (MRL
``main_noisy.py`` ``fx_calc_map_label``: ``scipy.spatial.distance.cdist(..., 'cosine')``).
This module gives the same metrics as :mod:`xbench.evaluating.metrics` for such embeddings, with the
same conventions, so a run's Hamming and real-valued numbers differ only in the ranking:

* **Similarity** s(q, b): ``cosine`` = q·b / (‖q‖‖b‖) (a zero vector has similarity 0 with
  everything); ``euclidean`` = −‖q − b‖ (ranked through −‖q − b‖², the same order). Ranked by
  descending s, computed in float64.
* **Ties** are items whose scores are equal up to float64 rounding: walking down the sorted
  scores of a query, an item joins the tie group of the one before it when the two differ by at
  most :data:`TIE_TOLERANCE` (cosine) or :data:`TIE_TOLERANCE` × (‖q‖² + max‖b‖²) (squared
  Euclidean). Identical database vectors always tie: each distinct database vector (after L2
  normalisation for cosine) is scored once and the score copied to its duplicates. So ±1 codes
  ranked by cosine give exactly the Hamming ranking and numbers of :mod:`xbench.evaluating.metrics`
  (cosine = 1 − 2d/K). The **exact** AP
  breaks ties by ascending database index (a stable sort), as :mod:`xbench.evaluating.metrics` does for
  equal Hamming distances; the **tie-averaged** AP is the expectation over random orders inside
  each group of equal s, computed with the closed form of :mod:`xbench.evaluating.metrics`.
* Relevance, AP@R, mAP@R, P@N, R@k: exactly as in :mod:`xbench.evaluating.metrics` (docs/metrics.md).
  Hash-lookup metrics (PR by radius, P@H≤2) have no real-valued counterpart and are absent.

The work is a full sort per query (O(nq · nd log nd)), tiled over queries so memory stays at
about 40 bytes × tile pairs; fine for the feature datasets MRL uses (≤ 10⁸ pairs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from xbench.evaluating import metrics
from xbench.evaluating.metrics import MetricInputError

SIMILARITIES = ("cosine", "euclidean")

SEMANTICS = (
    "real-valued embeddings; s = cosine similarity q·b/(‖q‖‖b‖) (0 for a zero vector) or −‖q−b‖ "
    "(euclidean), float64; relevant iff ≥ 1 shared label (or equal class); rank by descending s, "
    "ties (equal s; identical vectors always tie) by ascending database index; AP@R = mean precision "
    "at the hits inside the top R, 0 if none; tie-averaged AP = exact expectation over random orders "
    "within ties; P@N = hits in top N / N; R@k = hits in top k / all relevant (0 if none); all "
    "queries averaged"
)

_TILE_PAIRS = 1 << 20

#: Relative tolerance under which two similarities count as tied (float64 rounding of a dot product
#: of unit vectors is ~dim × 1e-16).
TIE_TOLERANCE = 1e-12


def _embeddings(x: Any, name: str) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim != 2:
        raise MetricInputError(f"{name}: expected a 2-D array (items × dimensions), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise MetricInputError(f"{name}: empty array of shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.iscomplexobj(arr):
        raise MetricInputError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise MetricInputError(f"{name}: contains NaN or infinite values")
    return arr


def _normalise(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _inputs(query: Any, database: Any, similarity: str) -> tuple[np.ndarray, np.ndarray]:
    if similarity not in SIMILARITIES:
        raise MetricInputError(f"similarity: expected one of {', '.join(SIMILARITIES)}, got {similarity!r}")
    q = _embeddings(query, "query_embeddings")
    d = _embeddings(database, "db_embeddings")
    if q.shape[1] != d.shape[1]:
        raise MetricInputError(
            f"db_embeddings: {d.shape[1]} dimensions but query_embeddings has {q.shape[1]}"
        )
    return q, d


def similarities(query: Any, database: Any, similarity: str = "cosine") -> np.ndarray:
    """The (queries × database) float64 matrix of the ranking score (higher = more similar): cosine
    similarity, or the negative **squared** Euclidean distance (same order as −‖q − b‖)."""
    return _scores(*_inputs(query, database, similarity), similarity)[0]


def _scores(q: np.ndarray, d: np.ndarray, similarity: str) -> tuple[np.ndarray, np.ndarray]:
    """s (queries × database) and the per-query tie tolerance (see the module docstring)."""
    if similarity == "cosine":
        q, d = _normalise(q), _normalise(d)
    uniq, inverse = np.unique(d, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if similarity == "cosine":
        s = q @ uniq.T
        tol = np.full(len(q), TIE_TOLERANCE)
    else:
        qq, bb = (q * q).sum(1), (uniq * uniq).sum(1)
        s = -np.maximum(qq[:, None] + bb[None, :] - 2.0 * (q @ uniq.T), 0.0)
        tol = TIE_TOLERANCE * (qq + bb.max())
    return s[:, inverse], tol


@dataclass
class RealSummary:
    """Per-query quantities of one real-valued retrieval direction (as :class:`metrics.RankingSummary`)."""

    num_queries: int
    num_database: int
    dim: int
    similarity: str
    topk: int
    cutoffs: tuple[int, ...]
    ap: np.ndarray
    ap_tie: np.ndarray
    hits_at: np.ndarray
    num_relevant: np.ndarray

    def map(self) -> float:
        return float(self.ap.mean())

    def map_tie_averaged(self) -> float:
        return float(self.ap_tie.mean())

    def precision_at(self) -> np.ndarray:
        return (self.hits_at / np.asarray(self.cutoffs, dtype=np.float64)[None, :]).mean(axis=0)

    def recall_at(self) -> np.ndarray:
        nrel = self.num_relevant[:, None].astype(np.float64)
        return np.where(nrel > 0, self.hits_at / np.maximum(nrel, 1), 0.0).mean(axis=0)


def _tile(
    s: np.ndarray, tol: np.ndarray, rel: np.ndarray, topk: int, cutoffs: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact AP@R, tie-averaged AP@R and hits@cut-offs of a tile of queries.

    ``tol`` (per query): consecutive values of the descending order closer than this belong to one
    tie group; inside a group items are ranked by ascending database index.
    """
    nq, nd = s.shape
    order = np.argsort(-s, axis=1, kind="stable")
    ss = np.take_along_axis(s, order, axis=1)
    new = np.ones_like(ss, dtype=bool)
    new[:, 1:] = (ss[:, :-1] - ss[:, 1:]) > tol[:, None]
    group = np.cumsum(new, axis=1) - 1  # 0-based tie group per position
    inside = np.lexsort((order, group), axis=1)  # by group, then database index
    order = np.take_along_axis(order, inside, axis=1)
    ranked = np.take_along_axis(rel, order, axis=1)
    top = ranked[:, :topk]
    cum = np.cumsum(top, axis=1)
    ranks = np.arange(1, top.shape[1] + 1, dtype=np.float64)
    hits = cum[:, -1]
    ap = np.where(hits > 0, (top * cum / ranks).sum(1) / np.maximum(hits, 1), 0.0)
    full = np.cumsum(ranked, axis=1)
    hits_at = (
        np.stack([full[:, min(c, nd) - 1] for c in cutoffs], axis=1)
        if len(cutoffs)
        else np.zeros((nq, 0), dtype=np.int64)
    )
    keys = (np.arange(nq)[:, None] * nd + group) * 2 + ranked
    hist = np.bincount(keys.ravel(), minlength=nq * nd * 2).reshape(nq, nd, 2)
    ap_tie = metrics._tie_averaged(hist, topk)
    return ap, ap_tie, hits_at


def summarize(
    query: Any,
    database: Any,
    query_labels: Any,
    db_labels: Any,
    *,
    similarity: str = "cosine",
    topk: int | str | None = None,
    cutoffs: Sequence[int] | None = (),
    tile_pairs: int | None = None,
) -> RealSummary:
    """Rank the database for every query by ``similarity``; the per-query quantities of every metric.

    ``topk``: R of AP@R (None/'all' = whole database). ``cutoffs``: N/k of the P@N and R@k curves
    (None = :data:`xbench.evaluating.metrics.DEFAULT_CUTOFFS` up to the database size). Raises
    :class:`~xbench.evaluating.metrics.MetricInputError` for bad input.
    """
    q, d = _inputs(query, database, similarity)
    s_all, tol = _scores(q, d, similarity)
    nq, nd = s_all.shape
    dim = q.shape[1]
    qk, ql = metrics._label_kind(query_labels, "query_labels", False)
    dk, dl = metrics._label_kind(db_labels, "db_labels", False)
    ql = ql.cpu().numpy() if isinstance(ql, torch.Tensor) else ql
    dl = dl.cpu().numpy() if isinstance(dl, torch.Tensor) else dl
    if len(ql) != nq:
        raise MetricInputError(f"query_labels: {len(ql)} rows but query_embeddings has {nq}")
    if len(dl) != nd:
        raise MetricInputError(f"db_labels: {len(dl)} rows but db_embeddings has {nd}")
    if qk != dk:
        raise MetricInputError("db_labels: label kind (multi-hot / class indices) differs from query_labels")
    if qk == "multi" and ql.shape[1] != dl.shape[1]:
        raise MetricInputError(f"db_labels: {dl.shape[1]} label columns but query_labels has {ql.shape[1]}")
    r = metrics.resolve_topk(topk, nd)
    cuts = metrics._cutoffs(cutoffs, nd, "cutoffs", clip=cutoffs is None)
    step = max(1, (tile_pairs or _TILE_PAIRS) // max(nd, 1))
    aps, ties, hits = [], [], []
    dlf = dl.astype(np.float32) if qk == "multi" else dl
    for q0 in range(0, nq, step):
        qs = slice(q0, min(nq, q0 + step))
        rel = (ql[qs][:, None] == dl[None, :]) if qk == "class" else (ql[qs].astype(np.float32) @ dlf.T) > 0
        a, t, h = _tile(s_all[qs], tol[qs], rel.astype(np.int64), r, cuts)
        aps.append(a)
        ties.append(t)
        hits.append(h)
    if qk == "class":
        classes, counts = np.unique(dl, return_counts=True)
        pos = np.minimum(np.searchsorted(classes, ql), len(classes) - 1)
        num_rel = np.where(classes[pos] == ql, counts[pos], 0)
    else:
        num_rel = ((ql.astype(np.float32) @ dlf.T) > 0).sum(1)
    return RealSummary(
        nq,
        nd,
        dim,
        similarity,
        r,
        cuts,
        np.concatenate(aps),
        np.concatenate(ties),
        np.concatenate(hits),
        np.asarray(num_rel),
    )


def evaluate(
    query: Any,
    database: Any,
    query_labels: Any,
    db_labels: Any,
    *,
    similarity: str = "cosine",
    topk: int | str | None = None,
    curves: bool = True,
    cutoffs: Sequence[int] | None = None,
) -> dict[str, Any]:
    """All real-valued metrics of one retrieval direction as a JSON-serialisable dict.

    Keys: ``topk``, ``map``, ``map_tie_averaged``, ``similarity``, ``semantics``, ``num_queries``,
    ``num_database``, ``dim``; with ``curves`` also ``topn_precision`` {n, precision} and
    ``recall_at_k`` {k, recall} (the keys of :func:`xbench.evaluating.metrics.evaluate` that apply).
    """
    s = summarize(
        query,
        database,
        query_labels,
        db_labels,
        similarity=similarity,
        topk=topk,
        cutoffs=cutoffs if curves else (),
    )
    out: dict[str, Any] = {
        "topk": metrics._topk_label(topk),
        "map": s.map(),
        "map_tie_averaged": s.map_tie_averaged(),
        "similarity": similarity,
    }
    if curves:
        out["topn_precision"] = {"n": list(s.cutoffs), "precision": [float(v) for v in s.precision_at()]}
        out["recall_at_k"] = {"k": list(s.cutoffs), "recall": [float(v) for v in s.recall_at()]}
    out.update(semantics=SEMANTICS, num_queries=s.num_queries, num_database=s.num_database, dim=s.dim)
    if not math.isfinite(out["map"]):  # pragma: no cover - defensive; inputs are validated
        raise MetricInputError("result: non-finite mAP")
    return out


@torch.no_grad()
def continuous_all(method: Any, modality: str, x: Any, batch_size: int = 4096) -> torch.Tensor:
    """A method's real-valued outputs (``Hasher.continuous``) for a whole set, in eval mode, batched."""
    was_training = method.training
    method.eval()
    try:
        parts = []
        for start in range(0, x.shape[0], batch_size):
            chunk = x[start : start + batch_size]
            if not isinstance(chunk, torch.Tensor):
                chunk = torch.as_tensor(np.asarray(chunk))
            parts.append(method.continuous(modality, chunk.to(method.device)).float())
    finally:
        method.train(was_training)
    return torch.cat(parts) if parts else torch.empty((0, method.bits))
