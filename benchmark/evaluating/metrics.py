"""Exact, fast retrieval metrics for binary hash codes (docs/metrics.md).

Semantics (fixed; every number xbench reports goes through this module)
-----------------------------------------------------------------------
- **Codes** are ±1. A code given as real-valued outputs becomes +1 where the output is ≥ 0
  and −1 elsewhere; a code array whose entries are all 0 or 1 is read as bits (0 → −1).
  Booleans are bits. Query and database arrays are read independently.
- **Distance** d(q, b) = (K − q·b)/2, an integer in 0…K (CMMQ release
  utils/tools.py L305-308; DCMH calc_hammingDist).
- **Relevance**: q and b share at least one label (multi-hot rows; an entry > 0 counts as a
  label) or have the same class (1-D class indices). A query with an all-zero label row is
  relevant to nothing (§1).
- **Ranking**: ascending distance; ties broken by ascending database index (a stable sort,
  as DCMH's MATLAB code, §3).
- **AP@R** = mean of precision@rank over the hits inside the top R; 0 when the top R holds
  no hit. **mAP@R** averages over all queries. R = None (or ≥ database size) = whole
  database. This is the CMMQ release's mAP@5000 (DeepHash-pytorch ``CalcTopMap``, §4.1 (a))
  with its tie order made deterministic. CMMQ paper §4.2 sets R = 5,000.
- **Tie-averaged AP@R**: the expected AP@R over uniformly random orders inside each group of
  tied distances, in closed form (McSherry & Najork, ECIR 2008, for R = all; the finite-R
  form of docs/metrics.md, a reconstruction checked against brute force).
  Order-independent, so it is what a random tie order gives on average.
- **precision@N** = (hits in the top N)/N; for N larger than the database the top N is the
  whole database, still divided by N. **recall@k** = (hits in the top k)/(relevant items in
  the database), 0 for a query with no relevant item (§5). Both averaged over all queries.
- **PR by Hamming radius** r = 0…K, pooled over all query–item pairs (DCMH MATLAB
  ``calcPreRecRadiusLabel.m``, §6): P(r) = Σ[d ≤ r ∧ rel] / Σ[d ≤ r] (0 when no pair lies
  within r), R(r) = Σ[d ≤ r ∧ rel] / Σ[rel] (0 when no pair is relevant).
- **Precision within radius 2** (P@H≤2, DCH/CMHH line): per query, relevant retrieved /
  retrieved within d ≤ 2, a query retrieving nothing scores 0; averaged over all queries.
- Every query stays in every mean (DCMH MATLAB, CMMQ), §4.3. A cross-modal direction is just
  (query codes, database codes, query labels, database labels); the caller picks I→T / T→I.

Algorithm (why this is fast and exact)
--------------------------------------
Distances take only K+1 values, so no full sort of the database is needed. Queries are
processed in tiles of ≈ 2^17 query–item pairs (at least one query: at NUS-WIDE size a tile is one
query row, which keeps the row's buffers in the core's cache): codes are bit-packed
into machine words, d = popcount(q XOR b), relevance = (packed labels AND) ≠ 0, and one
counting pass over the keys 2·d + rel gives per query the histogram ``n[d]`` (items at
distance d) and ``r[d]`` (relevant items at distance d). That histogram alone yields the
tie-averaged AP, the recall denominators, the radius metrics and the distance d* at which
the cumulative count reaches the prefix length L = max(R, largest curve cut-off). The exact
ranked relevance prefix of length L is then read off the same tile: the items with d ≤ d*
are compacted in database order and put in order by a stable radix sort on (query, d) (on a
one-row tile: on the key with its relevance bit set, 2·d + 1), so inside a distance they keep
ascending database index — the first L of them are exactly the stable ranking. Queries are
taken in label-row order, so consecutive queries with the same labels reuse one relevance row.
Without the pooled PR curve (``pooled=False``) a one-row tile skips the counting pass: D grows from
the previous query's D − 1 until max(R, curve cut-offs) items lie within it (a vectorised compare
and count per step), and only the items with d ≤ D are compacted and counted (:func:`_partial_row`).
Work is linear in the number of pairs; memory is the inputs plus ~20 bytes × max(database
size, 2^17) per thread for the tile buffers plus a few MB of prefixes
(bounded for any number of queries). Optional ``threads`` split the queries between threads
(NumPy releases the GIL): each block of queries is scanned and gets its tie-averaged AP in one
thread, with bit-identical results (every per-query value is computed the same way whichever
queries share its block). On CUDA
tensors the same quantities are computed on the device (matmul distances, ``torch.bincount``, a
stable ``torch.sort`` per chunk) and only the small histograms and prefixes come back to the host.

Exactness: the exact AP uses the same float64 formula as a plain argsort reference (tests:
≤ 1e-9 against one, in practice ~1e-15); the tie-averaged closed forms take harmonic numbers
from a long-double cumulative sum and hypergeometric weights from a ratio recurrence in log
space (no factorials), and agree with brute force over all tie orders to ~1e-12.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported only by the torch backend (and is loaded when a tensor is passed)
    import torch

__all__ = [
    "DEFAULT_CUTOFFS",
    "SEMANTICS",
    "MetricInputError",
    "RankingSummary",
    "average_precisions",
    "code_bits",
    "evaluate",
    "hamming_distances",
    "mean_average_precision",
    "PER_QUERY_FIELDS",
    "per_query_values",
    "pr_by_radius",
    "precision_at_n",
    "precision_within_radius",
    "recall_at_k",
    "relevance",
    "resolve_topk",
    "summarize",
    "tie_averaged_average_precisions",
    "tie_averaged_map",
]

#: Default cut-offs of the topN-precision and recall@k curves: a 1-2-5 grid from 1 to 1000 that
#: contains the paper's N = k = 100 (CMMQ §4.2). Cut-offs beyond the database size are dropped.
DEFAULT_CUTOFFS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

#: One-line statement of the semantics, stored with every result.
SEMANTICS = (
    "codes ±1 (output ≥ 0 → +1; 0/1 arrays read as bits); d = (K − q·b)/2; relevant iff ≥ 1 shared "
    "label (or equal class); rank by d, ties by ascending database index; AP@R = mean precision at "
    "the hits inside the top R, 0 if none; tie-averaged AP = exact expectation over random orders "
    "within ties; P@N = hits in top N / N; R@k = hits in top k / all relevant (0 if none); PR by "
    "radius pooled over all pairs (DCMH); P@H≤2 per query, empty = 0; all queries averaged"
)

_TILE_PAIRS = 1 << 17  # query–item pairs per numpy tile (keeps the working set in cache)
_CUDA_CHUNK_PAIRS = 1 << 25  # pairs per device chunk (~27 bytes each on the device)
_PREFIX_BATCH = 1 << 18  # ranked-prefix entries reduced to AP/hits@N at once
_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")
_POP8 = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)


MAX_CLASS_INDEX = 2**31 - 1  # largest class index accepted (int32); beyond it the back-ends disagreed


class MetricInputError(ValueError):
    """Bad evaluator input. The message starts with the argument name and says what was expected."""


# ----------------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------------

Array = Any  # numpy array, torch tensor, or anything ``numpy.asarray`` accepts


def _is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch (a tensor implies torch is loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _as_array(x: Array) -> np.ndarray | torch.Tensor:
    if _is_tensor(x):
        return x.detach()
    return np.asarray(x)


def _item(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def _is_float(x: np.ndarray | torch.Tensor) -> bool:
    if _is_tensor(x):
        return x.is_floating_point()
    return np.issubdtype(x.dtype, np.floating)


def _is_bool(x: np.ndarray | torch.Tensor) -> bool:
    return x.dtype == sys.modules["torch"].bool if _is_tensor(x) else x.dtype == np.bool_


def _check_numeric(x: np.ndarray | torch.Tensor, name: str) -> None:
    if _is_tensor(x):
        if x.is_complex():
            raise MetricInputError(f"{name}: expected real numbers, got dtype {x.dtype}")
        if x.is_floating_point() and bool(x.isnan().any()):
            raise MetricInputError(f"{name}: contains NaN")
        return
    if x.dtype == bool:
        return
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise MetricInputError(f"{name}: expected numbers, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and bool(np.isnan(x).any()):
        raise MetricInputError(f"{name}: contains NaN")


def code_bits(codes: Array, name: str = "codes", strict: bool = False) -> np.ndarray | torch.Tensor:
    """Boolean bits (True = +1) of a code array, on the array's own device.

    Rule (docs/metrics.md): an array whose entries are all 0 or 1 (or bool) is read as bits;
    otherwise +1 where the entry is ≥ 0 (so ±1 codes and real-valued network outputs both work,
    and an exact 0 output becomes +1). With ``strict`` the entries must be exactly ±1 or 0/1 —
    the rule of ``xbench evaluate`` for saved codes. Raises :class:`MetricInputError`.
    """
    x = _as_array(codes)
    if x.ndim != 2:
        raise MetricInputError(f"{name}: expected a 2-D array (items × bits), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise MetricInputError(f"{name}: empty array of shape {tuple(x.shape)}")
    _check_numeric(x, name)
    if _is_bool(x):
        return x
    if not _is_tensor(x) and np.issubdtype(x.dtype, np.integer):  # integers: two reductions decide
        lo, hi = int(x.min()), int(x.max())
        is01 = lo >= 0 and hi <= 1
        if not strict or is01 or (lo >= -1 and hi <= 1 and np.count_nonzero(x) == x.size):
            return x > 0 if is01 else x >= 0
    is01 = bool(((x == 0) | (x == 1)).all())
    if strict and not is01 and not bool(((x == 1) | (x == -1)).all()):
        bad = x[(x != 1) & (x != -1) & (x != 0)]
        if bad.shape[0] == 0:  # a mix of −1 and 0
            bad = x[x == 0]
        raise MetricInputError(f"{name}: values must be ±1 or 0/1, found {_item(bad[0])!r}")
    return x > 0 if is01 else x >= 0


def _label_kind(labels: Array, name: str, strict: bool) -> tuple[str, np.ndarray | torch.Tensor]:
    x = _as_array(labels)
    if x.ndim not in (1, 2):
        raise MetricInputError(
            f"{name}: expected multi-hot rows (2-D) or class indices (1-D), got shape {tuple(x.shape)}"
        )
    if x.shape[0] == 0:
        raise MetricInputError(f"{name}: empty array")
    _check_numeric(x, name)
    if x.ndim == 1:
        if _is_bool(x):
            x = x.long() if _is_tensor(x) else x.astype(np.int64)
        if _is_float(x) and not bool((x.isfinite() if _is_tensor(x) else np.isfinite(x)).all()):
            raise MetricInputError(f"{name}: class indices must be finite non-negative integers")
        if _is_float(x) and not bool((x == x.round() if _is_tensor(x) else x == np.round(x)).all()):
            raise MetricInputError(f"{name}: class indices must be non-negative integers")
        if bool((x > MAX_CLASS_INDEX).any()):  # beyond it float indices stop being exact; back-ends disagree
            raise MetricInputError(
                f"{name}: class indices must be at most {MAX_CLASS_INDEX}, found {_item(x.max())!r}"
            )
        if bool((x < 0).any()):
            raise MetricInputError(
                f"{name}: class indices must be non-negative integers, found {_item(x.min())!r}"
            )
        return "class", (x.long() if _is_tensor(x) else x.astype(np.int64))
    if x.shape[1] == 0:
        raise MetricInputError(f"{name}: multi-hot rows have no label columns")
    if strict and not bool(((x == 0) | (x == 1)).all()):
        bad = x[(x != 0) & (x != 1)]
        raise MetricInputError(f"{name}: multi-hot entries must be 0 or 1, found {_item(bad[0])!r}")
    return "multi", x > 0


@dataclass
class _Inputs:
    """Validated inputs: boolean bits and labels (kind 'multi': bool rows; 'class': int64)."""

    q_bits: np.ndarray | torch.Tensor
    d_bits: np.ndarray | torch.Tensor
    label_kind: str
    q_labels: np.ndarray | torch.Tensor
    d_labels: np.ndarray | torch.Tensor
    device: torch.device | None  # None → numpy backend

    @property
    def bits(self) -> int:
        return int(self.q_bits.shape[1])


def _prepare(
    query_codes: Array,
    db_codes: Array,
    query_labels: Array,
    db_labels: Array,
    strict: bool = False,
    backend: str = "auto",
) -> _Inputs:
    if backend not in ("auto", "numpy", "torch"):
        raise MetricInputError(f"backend: expected 'auto', 'numpy' or 'torch', got {backend!r}")
    raw = [_as_array(a) for a in (query_codes, db_codes, query_labels, db_labels)]
    devices = {a.device for a in raw if _is_tensor(a) and a.device.type != "cpu"}
    if len(devices) > 1:
        raise MetricInputError(f"inputs live on different devices: {sorted(map(str, devices))}")
    if (devices and backend != "numpy") or backend == "torch":
        import torch
    if devices and backend != "numpy":
        device: torch.device | None = devices.pop()
    elif backend == "torch":
        device = torch.device("cpu")
    else:
        device = None
    if device is None:  # numpy backend: move everything to host numpy (zero-copy for CPU tensors)
        raw = [a.cpu().numpy() if _is_tensor(a) else a for a in raw]
    else:
        raw = [a.to(device) if _is_tensor(a) else torch.as_tensor(np.asarray(a), device=device) for a in raw]
    qb = code_bits(raw[0], "query_codes", strict)
    db = code_bits(raw[1], "db_codes", strict)
    if qb.shape[1] != db.shape[1]:
        raise MetricInputError(f"db_codes: {db.shape[1]} bits per code but query_codes has {qb.shape[1]}")
    qk, ql = _label_kind(raw[2], "query_labels", strict)
    dk, dl = _label_kind(raw[3], "db_labels", strict)
    if ql.shape[0] != qb.shape[0]:
        raise MetricInputError(f"query_labels: {ql.shape[0]} rows but query_codes has {qb.shape[0]}")
    if dl.shape[0] != db.shape[0]:
        raise MetricInputError(f"db_labels: {dl.shape[0]} rows but db_codes has {db.shape[0]}")
    if qk != dk:
        raise MetricInputError(
            f"db_labels: {'class indices' if dk == 'class' else 'multi-hot rows'} but "
            f"query_labels holds {'class indices' if qk == 'class' else 'multi-hot rows'}"
        )
    if qk == "multi" and ql.shape[1] != dl.shape[1]:
        raise MetricInputError(f"db_labels: {dl.shape[1]} label columns but query_labels has {ql.shape[1]}")
    return _Inputs(qb, db, qk, ql, dl, device)


def resolve_topk(topk: int | str | None, num_database: int) -> int:
    """The effective R of mAP@R: ``None``/``'all'`` or R ≥ database size → the database size."""
    if topk is None or (isinstance(topk, str) and topk.strip().lower() in ("all", "none")):
        return num_database
    try:
        r = int(topk)
        exact = isinstance(topk, str) or r == topk
    except (TypeError, ValueError):
        r, exact = 0, False
    if isinstance(topk, bool) or not exact or r < 1:
        raise MetricInputError(f"topk: expected a positive integer or 'all', got {topk!r}")
    return min(r, num_database)


def _topk_label(topk: int | str | None) -> int | None:
    if topk is None or (isinstance(topk, str) and topk.strip().lower() in ("all", "none")):
        return None
    return int(topk)


def _cutoffs(values: Sequence[int] | None, num_database: int, name: str, clip: bool) -> tuple[int, ...]:
    if values is None:
        return tuple(c for c in DEFAULT_CUTOFFS if c <= num_database)
    out = []
    for v in np.atleast_1d(np.asarray(values)).tolist():
        if not isinstance(v, int) or v < 1:
            raise MetricInputError(f"{name}: cut-offs must be positive integers, got {v!r}")
        if not clip or v <= num_database:
            out.append(v)
    return tuple(out)


# ----------------------------------------------------------------------------------------------
# numpy backend: packed words, popcount, counting pass, prefix extraction
# ----------------------------------------------------------------------------------------------


def _pack(bits: np.ndarray) -> np.ndarray:
    """(n, B) bool → (W, n) unsigned words (uint8/16/32/64 by width), zero padded; word-major."""
    packed = np.packbits(bits, axis=1, bitorder="little")
    nbytes = packed.shape[1]
    dt = np.dtype(
        np.uint8 if nbytes <= 1 else np.uint16 if nbytes <= 2 else np.uint32 if nbytes <= 4 else np.uint64
    )
    words = -(-nbytes // dt.itemsize)
    pad = words * dt.itemsize - nbytes
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    return np.ascontiguousarray(np.ascontiguousarray(packed).view(dt).T)


def _popcount(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Bits set per element of an unsigned array, written to ``out`` (``np.bitwise_count`` or a byte table)."""
    if _HAS_BITWISE_COUNT:
        return np.bitwise_count(x, out=out)
    return _popcount_table(x, out)


def _popcount_table(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Byte-lookup popcount (fallback for NumPy < 2.0)."""
    b = np.ascontiguousarray(x).view(np.uint8).reshape(*x.shape, x.dtype.itemsize)
    np.sum(_POP8[b], axis=-1, out=out, dtype=out.dtype)
    return out


def _bincount_rows(keys: np.ndarray, nbins: int, out: np.ndarray, offsets: np.ndarray | None = None) -> None:
    """out[i] = histogram of keys[i] over 0…nbins−1, in NumPy.

    uint8 keys (≤ 127 bits) are counted two at a time: a row viewed as uint16 holds
    k[2j] + 256·k[2j+1], so one ``np.bincount`` over half as many values gives the joint counts of
    adjacent pairs, whose two marginals summed are the histogram (a row of odd length adds its last
    key alone). Other keys: one ``np.bincount`` over the row-offset keys ``i·nbins + keys[i, j]``
    (``offsets``: an intp buffer of the tile's shape, allocated here when not given).
    """
    t, n = keys.shape
    if keys.dtype == np.uint8 and n >= 2 and keys.strides[1] == 1:
        even = n - n % 2
        for i in range(t):
            pairs = keys[i, :even].view(np.uint16)
            joint = np.bincount(pairs, minlength=256 * nbins)[: 256 * nbins].reshape(nbins, 256)[:, :nbins]
            np.add(joint.sum(axis=0), joint.sum(axis=1), out=out[i])  # columns ≥ nbins hold no count
            if even < n:
                out[i, keys[i, -1]] += 1
        return
    off = np.empty(keys.shape, np.intp) if offsets is None else offsets[:t]
    np.add(keys, (np.arange(t, dtype=np.intp) * nbins)[:, None], out=off, casting="unsafe")
    out[:] = np.bincount(off.reshape(-1), minlength=t * nbins).reshape(t, nbins)


@dataclass
class _Accumulator:
    """Per-query results of the scan, filled tile by tile."""

    hist: np.ndarray  # (Q, K+1, 2) int64: [..., 0] irrelevant, [..., 1] relevant items at distance d
    ap: np.ndarray | None  # (Q,) exact AP@R
    hits_at: np.ndarray  # (Q, len(cutoffs)) hits within the top c
    ap_tie: np.ndarray | None = None  # (Q,) tie-averaged AP@R, when the scan computes it
    exact_through: np.ndarray | None = None  # (Q,) last exact distance of ``hist`` (None: all)


def _finish_prefix(
    rel_top: np.ndarray,
    rows: slice | np.ndarray,
    acc: _Accumulator,
    topk: int,
    cutoffs: Sequence[int],
    want_ap: bool,
) -> None:
    """AP@R and hits@cut-offs from exact ranked relevance prefixes ``rel_top`` (t × depth, bool).

    With hits_i = Σ_{j ≤ i} rel_j: AP@R = Σ_{i ≤ R} rel_i·hits_i/i / hits_R (0 when hits_R = 0).
    """
    depth = rel_top.shape[1]
    hits = np.cumsum(rel_top, axis=1, dtype=np.int32)
    if cutoffs:
        acc.hits_at[rows] = hits[:, np.minimum(np.asarray(cutoffs, dtype=np.int64), depth) - 1]
    if want_ap and acc.ap is not None:
        h = hits[:, :topk]
        total = h[:, -1].astype(np.float64)
        np.multiply(h, rel_top[:, :topk], out=h)
        num = (h / np.arange(1.0, h.shape[1] + 1.0)).sum(axis=1)
        acc.ap[rows] = np.where(total > 0, num / np.maximum(total, 1.0), 0.0)


def _extract_prefix(key: np.ndarray, hist: np.ndarray, depth: int, bits: int, mask: np.ndarray) -> np.ndarray:
    """Exact ranked relevance prefix (t × depth, bool) from tile keys ``key = 2·d + rel``.

    d* is the distance at which the cumulative count first reaches ``depth``. Only the items with
    d ≤ d* are extracted (in database order), then ordered by a stable radix sort on (row, d):
    inside each distance they keep database-index order, so the first ``depth`` of each row are
    exactly the stable ranking's prefix — obtained without sorting the database. ``mask`` is a
    tile-sized bool buffer.
    """
    t = key.shape[0]
    rows = np.arange(t)
    n = hist.sum(axis=2)
    cum = np.cumsum(n, axis=1)
    dstar = (cum < depth).sum(axis=1)  # ≤ bits because depth ≤ database size
    size = cum[rows, dstar]  # items with d ≤ d* (≥ depth)
    kdt = key.dtype
    m = mask[:t]
    np.less_equal(key, (2 * dstar + 1).astype(kdt)[:, None], out=m)
    vals = key.reshape(-1)[np.flatnonzero(m)]  # 1-D compaction: database order within rows
    span = t * (bits + 1)
    sdt = np.dtype(
        np.uint8
        if span <= 1 << 8
        else np.uint16
        if span <= 1 << 16
        else np.uint32
        if span <= 1 << 32
        else np.uint64
    )
    skey = np.repeat((rows * (bits + 1)).astype(sdt), size)
    skey += (vals >> 1).astype(sdt)
    vals = vals[np.argsort(skey, kind="stable")]  # radix sort on (row, d); stable keeps index order
    start = np.cumsum(size) - size
    out = vals[start[:, None] + np.arange(depth)[None, :]]
    return (out & 1).astype(bool)


def _prefix_row(key: np.ndarray, flat_hist: np.ndarray, depth: int, mask: np.ndarray) -> np.ndarray:
    """:func:`_extract_prefix` for one query row (the usual case: a tile is one row at NUS-WIDE size).

    ``key``: the row's keys 2·d + rel in database order; ``flat_hist``: its histogram over the keys.
    d* is the first distance whose cumulative count reaches ``depth``; the items with d ≤ d* are
    compacted in database order (``np.compress``) and put in order by a stable sort on d — the key
    with its relevance bit set (``key | 1`` = 2·d + 1), so relevant and irrelevant items at one
    distance keep their database order. The first ``depth`` relevance bits are the stable ranking's.
    """
    n = flat_hist[0::2] + flat_hist[1::2]
    dstar = int(np.searchsorted(np.cumsum(n), depth))  # first d with cumulative count ≥ depth
    np.less_equal(key, key.dtype.type(2 * dstar + 1), out=mask)
    vals = np.compress(mask, key)
    order = np.argsort(vals | key.dtype.type(1), kind="stable")[:depth]
    return (vals[order] & 1).astype(bool)


def _partial_row(
    dist: np.ndarray,
    rel: np.ndarray,
    num_relevant: int,
    reach: int,
    depth: int,
    guess: int,
    floor: int,
    bits: int,
    mask: np.ndarray,
    hist_row: np.ndarray,
) -> tuple[np.ndarray, int]:
    """One query row without the full histogram: its ranked relevance prefix and D, the last exact distance.

    ``dist``: the row's distances (database order); ``rel``: its relevance. D starts at
    max(``guess``, ``floor``) (at most K) and grows until at least ``reach`` (≥ ``depth``, ≥ 1)
    items lie within D (one vectorised compare and count a step); the items with d ≤ D are
    compacted in database order, and their histogram is exact for d = 0…D. ``hist_row``
    ((K+1) × 2, zeroed by the caller) gets it, and the items beyond D are lumped at D + 1 (so row
    sums, the database size and the relevant count stay exact; distances beyond D are not
    resolved). The prefix is a stable sort of the candidates on d, so inside a distance they keep
    ascending database index; its first ``depth`` relevance bits are the stable ranking's.
    """
    d_cap = min(max(guess, floor), bits)
    while True:
        np.less_equal(dist, dist.dtype.type(d_cap), out=mask)
        within = int(np.count_nonzero(mask))
        if within >= reach or d_cap >= bits:
            break
        d_cap += 1
    idx = np.flatnonzero(mask)
    dv = dist[idx]
    rv = rel[idx]
    hist_row[: d_cap + 1] = np.bincount(dv * np.intp(2) + rv, minlength=2 * (d_cap + 1)).reshape(-1, 2)
    if d_cap < bits:
        rel_beyond = num_relevant - int(np.count_nonzero(rv))
        hist_row[d_cap + 1] = (dist.shape[0] - within - rel_beyond, rel_beyond)
    prefix = rv[np.argsort(dv, kind="stable")[:depth]] if depth else rv[:0]
    return prefix, d_cap


def _label_words(inp: _Inputs) -> tuple[np.ndarray, np.ndarray]:
    """(W, n) label words of queries and database: packed multi-hot bits, or class indices (W = 1)."""
    if inp.label_kind == "multi":
        return _pack(inp.q_labels), _pack(inp.d_labels)
    top = int(max(inp.q_labels.max(), inp.d_labels.max()))
    ldt = (
        np.uint8 if top < 1 << 8 else np.uint16 if top < 1 << 16 else np.uint32 if top < 1 << 32 else np.int64
    )
    return inp.q_labels.astype(ldt)[None], inp.d_labels.astype(ldt)[None]


def _label_order(qlw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queries in an order that puts equal label rows together, and each query's label-row id.

    Relevance depends on the query only through its label row, so consecutive queries with the
    same row reuse one relevance vector. The order changes no value: every per-query quantity is
    computed from that query's row alone.
    """
    if qlw.shape[0] == 1:
        ids = qlw[0]
    else:
        ids = np.unique(np.ascontiguousarray(qlw.T), axis=0, return_inverse=True)[1].reshape(-1)
    return np.argsort(ids, kind="stable"), ids


def _scan_numpy(
    inp: _Inputs,
    topk: int,
    depth: int,
    cutoffs: Sequence[int],
    want_ap: bool,
    tile_pairs: int,
    threads: int = 1,
    tie_averaged: bool = False,
    pooled: bool = True,
) -> _Accumulator:
    """Histograms, exact AP@R and hits@N of every query (and the tie-averaged AP@R when asked).

    Queries go in label-row order (:func:`_label_order`), in tiles of ``tile_pairs`` pairs; with
    ``threads`` > 1 blocks of queries run in a thread pool, each block with buffers of its own, and
    each block also computes its queries' tie-averaged AP (a per-query value, so the split changes
    no bit of it).

    ``pooled=False`` (no pooled PR-by-radius curve wanted) lets one-row tiles skip the full
    histogram: each row resolves only the distances 0…D its prefix, tie-averaged AP and P@H≤2
    need (:func:`_partial_row`) and ``exact_through`` records D per query.
    """
    qw, dw = _pack(inp.q_bits), _pack(inp.d_bits)
    qlw, dlw = _label_words(inp)
    bits = inp.bits
    nq, nd = qw.shape[1], dw.shape[1]
    nbins = 2 * (bits + 1)
    kdt = np.uint8 if nbins <= 256 else np.uint16 if nbins <= 1 << 16 else np.uint32
    acc = _Accumulator(
        hist=np.zeros((nq, bits + 1, 2), dtype=np.int64),
        ap=np.zeros(nq) if want_ap else None,
        hits_at=np.zeros((nq, len(cutoffs)), dtype=np.int64),
        ap_tie=np.zeros(nq) if tie_averaged else None,
    )
    flat = acc.hist.reshape(nq, nbins)
    rows_per_tile = int(max(1, min(nq, tile_pairs // nd)))
    partial = not pooled and rows_per_tile == 1
    if partial:
        acc.exact_through = np.full(nq, bits, dtype=np.int64)
        reach = max(depth, topk, 1)
    multiword, multilabel = qw.shape[0] > 1, qlw.shape[0] > 1
    order, label_ids = _label_order(qlw)
    harm = _harmonic(nd) if tie_averaged else None

    def relevance(rows: np.ndarray | int, out: np.ndarray, lbuf: np.ndarray, lacc: np.ndarray | None) -> None:
        """out[i, j] = query rows[i] and item j share a label (multi-hot) or a class."""
        if inp.label_kind != "multi":
            np.equal(qlw[0, rows, None], dlw[0][None, :], out=out)
            return
        np.bitwise_and(qlw[0, rows, None], dlw[0][None, :], out=lbuf)
        for w in range(1, qlw.shape[0]):
            np.bitwise_and(qlw[w, rows, None], dlw[w][None, :], out=lacc)
            np.bitwise_or(lbuf, lacc, out=lbuf)
        np.not_equal(lbuf, 0, out=out)

    local = threading.local()  # tile buffers, one set per thread, reused from block to block

    def buffers() -> tuple:
        if not hasattr(local, "buffers"):
            local.guess = 0  # the d* search of partial rows starts from the thread's last D − 1
            shape = (rows_per_tile, nd)
            local.buffers = (
                np.empty(shape, qw.dtype),  # XOR words
                np.empty(shape, kdt),  # keys 2·d + rel
                np.empty(shape, bool),  # relevance
                np.empty(shape, kdt) if multiword else None,  # popcount of further code words
                np.empty(shape, qlw.dtype),  # shared label bits
                np.empty(shape, qlw.dtype) if multilabel else None,  # further label words
                np.empty(shape, bool),  # candidate mask of the prefix
                np.empty((rows_per_tile, nbins), dtype=np.int64),  # histograms
                None if kdt == np.uint8 and nd >= 2 else np.empty(shape, np.intp),  # row-offset keys
            )
        return local.buffers

    def block(b0: int, b1: int) -> None:
        """Queries order[b0:b1] tile by tile, with its thread's buffers (one block per thread at a time)."""
        xbuf, key, rel, pbuf, lbuf, lacc, mask, flat_hist, offsets = buffers()
        pending: list[np.ndarray] = []  # prefixes of queries order[p0:…] not yet reduced to AP / hits@N
        p0 = b0
        last_label = None  # label row whose relevance ``rel[0]`` holds (one-row tiles)
        num_relevant = 0  # relevant items of that label row (partial rows)
        for r0 in range(b0, b1, rows_per_tile):
            r1 = min(b1, r0 + rows_per_tile)
            t = r1 - r0
            rows = order[r0:r1]
            x, k, rl = xbuf[:t], key[:t], rel[:t]
            for w in range(qw.shape[0]):  # d = Σ_words popcount(q XOR b)
                np.bitwise_xor(qw[w, rows, None], dw[w][None, :], out=x)
                if w == 0:
                    _popcount(x, k)
                else:
                    _popcount(x, pbuf[:t])
                    np.add(k, pbuf[:t], out=k)
            if t > 1:
                relevance(rows, rl, lbuf[:t], None if lacc is None else lacc[:t])
            elif last_label is None or label_ids[rows[0]] != last_label:
                relevance(rows, rl, lbuf[:1], None if lacc is None else lacc[:1])
                last_label = label_ids[rows[0]]
                num_relevant = int(np.count_nonzero(rl[0])) if partial else 0
            if partial:  # distances 0…D only (no pooled curve): d* search, compaction, stable sort
                prefix, d_cap = _partial_row(
                    k[0], rl[0], num_relevant, reach, depth, local.guess, 2, bits, mask[0], acc.hist[rows[0]]
                )
                acc.exact_through[rows[0]] = d_cap
                local.guess = d_cap - 1  # one short: growing D costs less than too many candidates
                if depth:
                    pending.append(prefix[None])
            else:
                np.add(k, k, out=k)  # key = 2·d + rel (an add: NumPy's shift by a scalar is not vectorised)
                np.add(k, rl.view(np.uint8), out=k, casting="unsafe")
                fh = flat_hist[:t]
                _bincount_rows(k, nbins, fh, offsets)
                flat[rows] = fh
                if depth and t == 1:
                    pending.append(_prefix_row(k[0], fh[0], depth, mask[0])[None])
                elif depth:
                    pending.append(_extract_prefix(k, fh.reshape(t, bits + 1, 2), depth, bits, mask))
            if depth and (r1 == b1 or (r1 - p0) * depth >= _PREFIX_BATCH):
                _finish_prefix(np.concatenate(pending), order[p0:r1], acc, topk, cutoffs, want_ap)
                pending, p0 = [], r1
        if acc.ap_tie is not None:
            rows = order[b0:b1]
            acc.ap_tie[rows] = _tie_averaged(acc.hist[rows], topk, harm)

    if threads <= 1 or nq <= rows_per_tile:
        block(0, nq)
    else:  # NumPy ufuncs, compaction, sorting and the counting loop release the GIL
        step = rows_per_tile * max(1, -(-nq // (rows_per_tile * threads * 16)))  # small blocks: even finish
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for f in [pool.submit(block, b0, min(nq, b0 + step)) for b0 in range(0, nq, step)]:
                f.result()
    return acc


# ----------------------------------------------------------------------------------------------
# torch backend (CUDA tensors stay on their device; also runs on CPU for testing)
# ----------------------------------------------------------------------------------------------


def _scan_torch(
    inp: _Inputs, topk: int, depth: int, cutoffs: Sequence[int], want_ap: bool, chunk_pairs: int
) -> _Accumulator:
    """The scan with torch ops on the inputs' device: distances by an exact ±1 matmul, histograms by
    ``torch.bincount`` (deterministic without weights), the prefix by a stable ``torch.sort``."""
    import torch

    dev = inp.device
    bits = inp.bits
    nq, nd = inp.q_bits.shape[0], inp.d_bits.shape[0]
    # ±1 products are exact in fp16 with fp32 accumulation; integers ≤ 2048 are exact in fp16.
    cdt = torch.float16 if dev.type == "cuda" and bits <= 2048 else torch.float32
    qf = inp.q_bits.to(cdt) * 2 - 1
    df = inp.d_bits.to(cdt) * 2 - 1
    if inp.label_kind == "multi":
        qlf, dlf = inp.q_labels.float(), inp.d_labels.float()  # 0/1: exact counts ≤ 2^24
    nbins = 2 * (bits + 1)
    acc = _Accumulator(
        hist=np.zeros((nq, bits + 1, 2), dtype=np.int64),
        ap=np.zeros(nq) if want_ap else None,
        hits_at=np.zeros((nq, len(cutoffs)), dtype=np.int64),
    )
    rows = int(max(1, min(nq, chunk_pairs // nd)))
    for r0 in range(0, nq, rows):
        r1 = min(nq, r0 + rows)
        t = r1 - r0
        dist = ((bits - qf[r0:r1] @ df.T) / 2).round_().to(torch.int16)
        if inp.label_kind == "multi":
            rel = (qlf[r0:r1] @ dlf.T) > 0.5
        else:
            rel = inp.q_labels[r0:r1, None] == inp.d_labels[None, :]
        key = dist.to(torch.int64) * 2 + rel + torch.arange(t, device=dev)[:, None] * nbins
        hist = torch.bincount(key.view(-1), minlength=t * nbins).view(t, bits + 1, 2)
        del key
        acc.hist[r0:r1] = hist.cpu().numpy()
        if depth:
            order = torch.sort(dist, dim=1, stable=True).indices[:, :depth]
            prefix = torch.gather(rel, 1, order).cpu().numpy()
            _finish_prefix(prefix, slice(r0, r1), acc, topk, cutoffs, want_ap)
        del dist, rel
    return acc


# ----------------------------------------------------------------------------------------------
# tie-averaged AP (closed form, McSherry & Najork 2008; finite R per docs/metrics.md)
# ----------------------------------------------------------------------------------------------


def _harmonic(n: int) -> np.ndarray:
    """H[i] = Σ_{j ≤ i} 1/j for i = 0…n, accumulated in long double."""
    h = np.zeros(n + 1, dtype=np.longdouble)
    if n:
        np.cumsum(1.0 / np.arange(1, n + 1, dtype=np.longdouble), out=h[1:])
    return h


def _straddle_expectations(
    n: np.ndarray, r: np.ndarray, s: np.ndarray, c: np.ndarray, big_s: np.ndarray, topk: int, harm: np.ndarray
) -> np.ndarray:
    """E[(S + G(k))/(c + k)] for queries whose tie group (n items, r relevant, s before) straddles R.

    k ~ Hypergeometric(n, r, m = R − s) is the number of the group's hits inside the top R; its
    weights come from the ratio recurrence P(k+1)/P(k) = (r−k)(m−k)/((k+1)(n−r−m+k+1)),
    accumulated in log space and normalised (no factorials, no under/overflow). Queries are
    batched by the length of their k range, padded, and evaluated in float64.
    """
    m = topk - s
    kmin = np.maximum(0, m - (n - r))
    length = np.minimum(r, m) - kmin + 1
    a_m = harm[s + m] - harm[s]  # long double
    coef1 = ((c + 1) * a_m / m).astype(np.float64)
    coef2 = np.where(m > 1, (m - (s + 1) * a_m) / np.where(m > 1, m * (m - 1), 1), 0).astype(np.float64)
    big_s = big_s.astype(np.float64)
    out = np.empty(n.size, dtype=np.float64)
    # rows are padded to a power-of-two width that depends on their own k range only, and batched
    # with rows of the same width: each query's value is then the same whichever queries share its
    # batch (so splitting the queries between threads cannot change a bit of the result)
    widths = 1 << np.ceil(np.log2(np.maximum(length, 1))).astype(np.int64)
    order = np.argsort(widths, kind="stable")
    i0 = 0
    while i0 < order.size:
        width = int(widths[order[i0]])
        i1 = i0 + 1
        while i1 < order.size and widths[order[i1]] == width and (i1 - i0 + 1) * width <= 1 << 16:
            i1 += 1
        idx = order[i0:i1]
        j = np.arange(width)[None, :]
        nn, rr, mm, cc = (v[idx, None].astype(np.float64) for v in (n, r, m, c))
        k = kmin[idx, None] + j.astype(np.float64)
        step = j < length[idx, None] - 1  # ratio P(k+1)/P(k) defined
        num = (rr - k) * (mm - k)
        den = (k + 1) * (nn - rr - mm + k + 1)
        logr = np.log(np.where(step, num, 1.0) / np.where(step, den, 1.0))
        logw = np.zeros_like(k)
        np.cumsum(logr[:, :-1], axis=1, out=logw[:, 1:])
        logw[j >= length[idx, None]] = -np.inf
        w = np.exp(logw - logw.max(axis=1, keepdims=True))
        p = w / w.sum(axis=1, keepdims=True)
        g = k * coef1[idx, None] + k * (k - 1) * coef2[idx, None]
        denom = cc + k
        val = np.where(denom > 0, (big_s[idx, None] + g) / np.where(denom > 0, denom, 1.0), 0.0)
        out[idx] = (p * val).sum(axis=1)
        i0 = i1
    return out


def _tie_averaged_threads(hist: np.ndarray, topk: int, threads: int) -> np.ndarray:
    """:func:`_tie_averaged` with the queries split between ``threads`` threads (same values: per-query)."""
    nq = hist.shape[0]
    if threads <= 1 or nq < 256:
        return _tie_averaged(hist, topk)
    bounds = np.linspace(0, nq, threads + 1).astype(int)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = pool.map(
            lambda b: _tie_averaged(hist[b[0] : b[1]], topk), zip(bounds[:-1], bounds[1:], strict=True)
        )
        return np.concatenate(list(parts))


def _tie_averaged(hist: np.ndarray, topk: int, harm: np.ndarray | None = None) -> np.ndarray:
    """Per-query tie-averaged AP@R from histograms ``hist[q, d] = (irrelevant, relevant)``.

    For each tie group g (ascending d): n items, r relevant, s items and c hits before it.
    E_g = (r/n)·Σ_{p=1..n} [c + 1 + (p−1)(r−1)/(n−1)]/(s + p)
        = (r/n)·[(c+1)·A + (r−1)/(n−1)·B],  A = H(s+n) − H(s),  B = Σ_p (p−1)/(s+p) = n − (s+1)·A.
    Groups wholly inside the top R contribute E_g; the group straddling R (m = R − s of its positions
    inside) contributes through the hypergeometric number k of its hits inside:
    AP@R = Σ_k P(k)·(S + G(k))/(c + k), G(k) = (k/m)(c+1)A_m + k(k−1)/(m(m−1))·B_m.
    """
    ld = np.longdouble
    n = hist.sum(axis=2).astype(ld)
    r = hist[:, :, 1].astype(ld)
    total = int(hist[0].sum())
    harm = _harmonic(total) if harm is None else harm  # H[0…database size], shareable between calls
    n_int = hist.sum(axis=2)
    s_int = np.cumsum(n_int, axis=1) - n_int
    c = np.cumsum(r, axis=1) - r
    s = s_int.astype(ld)
    inside = (s_int + n_int <= topk) & (n_int > 0)
    a = harm[np.minimum(s_int + n_int, total)] - harm[s_int]
    b = n - (s + 1) * a
    safe_n = np.where(n > 0, n, 1)
    frac = np.where(n > 1, (r - 1) / np.where(n > 1, n - 1, 1), 0)
    e = np.where(inside, r / safe_n * ((c + 1) * a + frac * b), 0)
    big_s = e.sum(axis=1)
    hits = np.where(inside, r, 0).sum(axis=1)
    result = np.where(hits > 0, big_s / np.where(hits > 0, hits, 1), 0).astype(ld)
    straddle = (s_int < topk) & (s_int + n_int > topk)
    qs, gs = np.nonzero(straddle)  # at most one straddling group per query
    if qs.size:
        result[qs] = _straddle_expectations(
            n_int[qs, gs], hist[qs, gs, 1], s_int[qs, gs], hits[qs].astype(np.int64), big_s[qs], topk, harm
        )
    return result.astype(np.float64)


# ----------------------------------------------------------------------------------------------
# summary object and public functions
# ----------------------------------------------------------------------------------------------


@dataclass
class RankingSummary:
    """Everything the metrics need from one pass over (queries × database).

    ``hist[q, d, 0]``/``hist[q, d, 1]``: irrelevant/relevant database items at Hamming distance d
    from query q. ``ap``: exact AP@R per query (stable ranking). ``hits_at[q, i]``: hits in the top
    ``cutoffs[i]`` of the stable ranking. ``ap_tie``: tie-averaged AP@R per query.
    ``exact_through``: None when ``hist`` is exact at every distance; else, per query, the last
    distance D at which it is (computed with ``pooled=False``): the items beyond D are lumped at
    D + 1, so row sums and relevant counts stay exact but the pooled PR curve cannot be read.
    """

    num_queries: int
    num_database: int
    bits: int
    topk: int
    cutoffs: tuple[int, ...]
    hist: np.ndarray
    ap: np.ndarray | None
    hits_at: np.ndarray
    ap_tie: np.ndarray | None
    exact_through: np.ndarray | None = None

    @property
    def num_relevant(self) -> np.ndarray:
        """Relevant database items per query."""
        return self.hist[:, :, 1].sum(axis=1)

    def map(self) -> float:
        assert self.ap is not None, "summary computed without exact AP"
        return float(self.ap.mean())

    def map_tie_averaged(self) -> float:
        assert self.ap_tie is not None, "summary computed without tie-averaged AP"
        return float(self.ap_tie.mean())

    def precision_at(self) -> np.ndarray:
        """Mean precision@N for each cut-off N (hits in the top N / N)."""
        return (self.hits_at / np.asarray(self.cutoffs, dtype=np.float64)[None, :]).mean(axis=0)

    def recall_at(self) -> np.ndarray:
        """Mean recall@k for each cut-off k (0 for queries with no relevant item)."""
        nrel = self.num_relevant[:, None].astype(np.float64)
        return np.where(nrel > 0, self.hits_at / np.maximum(nrel, 1), 0.0).mean(axis=0)

    def _require_exact(self, radius: int, what: str) -> None:
        if self.exact_through is not None and radius > int(self.exact_through.min()):
            raise MetricInputError(
                f"{what}: needs distances up to {radius}, but this summary resolves them only up to "
                f"{int(self.exact_through.min())} (computed with pooled=False)"
            )

    def pr_by_radius(self) -> dict[str, list]:
        """Pooled precision and recall of hash lookup within radius r = 0…K."""
        self._require_exact(self.bits, "pr_by_radius")
        pooled = self.hist.sum(axis=0)  # (K+1, 2)
        within = np.cumsum(pooled.sum(axis=1))
        within_rel = np.cumsum(pooled[:, 1])
        all_rel = within_rel[-1]
        precision = np.where(within > 0, within_rel / np.maximum(within, 1), 0.0)
        recall = within_rel / all_rel if all_rel > 0 else np.zeros_like(precision, dtype=np.float64)
        return {
            "radius": list(range(self.bits + 1)),
            "precision": [float(v) for v in precision],
            "recall": [float(v) for v in recall],
        }

    def precisions_within_radius(self, radius: int = 2) -> np.ndarray:
        """Per query: precision within Hamming radius ``radius`` (empty retrieval = 0)."""
        self._require_exact(min(max(0, radius), self.bits), "precision_within_radius")
        part = self.hist[:, : max(0, radius) + 1, :].sum(axis=1)
        got = part.sum(axis=1)
        return np.where(got > 0, part[:, 1] / np.maximum(got, 1), 0.0)

    def precision_within_radius(self, radius: int = 2) -> float:
        """Mean per-query precision within Hamming radius ``radius`` (empty retrieval = 0)."""
        return float(self.precisions_within_radius(radius).mean())


#: Per-query arrays returned by :func:`per_query_values` (and by ``evaluate(..., per_query=True)``).
PER_QUERY_FIELDS: tuple[str, ...] = (
    "ap",
    "ap_tie",
    "precision_radius2",
    "num_relevant",
    "hits_at",
    "cutoffs",
)


def per_query_values(summary: RankingSummary, radius: int = 2) -> dict[str, np.ndarray]:
    """The per-query values behind every query-averaged metric, so statistics need no retraining.

    ``ap`` (exact AP@R, float64, one per query; its mean is ``map``), ``ap_tie`` (tie-averaged
    AP@R; mean = ``map_tie_averaged``), ``precision_radius2`` (per-query precision within Hamming
    radius ``radius``, empty retrieval = 0; mean = ``precision_radius2``), ``num_relevant``
    (relevant database items per query), ``hits_at`` (queries × cut-offs: hits in the top N of the
    stable ranking; P@N = hits_at/N and R@k = hits_at/num_relevant per query) and ``cutoffs``.
    Entries whose summary part was not computed are left out. The PR-by-radius curve is pooled over
    all pairs, not a mean over queries, and has no per-query value.
    """
    out: dict[str, np.ndarray] = {}
    if summary.ap is not None:
        out["ap"] = np.asarray(summary.ap, dtype=np.float64)
    if summary.ap_tie is not None:
        out["ap_tie"] = np.asarray(summary.ap_tie, dtype=np.float64)
    out["precision_radius2"] = summary.precisions_within_radius(radius)
    out["num_relevant"] = np.asarray(summary.num_relevant, dtype=np.int64)
    out["hits_at"] = np.asarray(summary.hits_at, dtype=np.int64).reshape(summary.num_queries, -1)
    out["cutoffs"] = np.asarray(summary.cutoffs, dtype=np.int64)
    return out


def summarize(
    query_codes: Array,
    db_codes: Array,
    query_labels: Array,
    db_labels: Array,
    *,
    topk: int | str | None = None,
    cutoffs: Sequence[int] | None = (),
    exact_ap: bool = True,
    tie_averaged: bool = True,
    backend: str = "auto",
    strict: bool = False,
    tile_pairs: int | None = None,
    threads: int = 1,
    pooled: bool = True,
) -> RankingSummary:
    """One pass over all query–item pairs; the per-query quantities of every metric.

    ``topk``: R of AP@R (None/'all' = whole database). ``cutoffs``: N/k values of the P@N and R@k
    curves (None = :data:`DEFAULT_CUTOFFS` up to the database size; values beyond the database
    size are kept and mean "the whole database"). ``backend``: 'auto' (CUDA tensors → torch on
    their device, else numpy), 'numpy' or 'torch'. ``strict``: codes must be exactly ±1 or 0/1
    and multi-hot labels exactly 0/1. ``tile_pairs``: pairs per tile/chunk (tuning knob).
    ``threads``: CPU threads of the numpy backend (results do not depend on it).
    ``pooled=False``: the pooled PR-by-radius curve is not wanted, so on large databases (one query
    row a tile) the numpy backend resolves each query's histogram only up to the distance its
    top-R prefix, tie-averaged AP and P@H≤2 need (``exact_through``); every other value is the same.
    Raises :class:`MetricInputError` for bad input.
    """
    inp = _prepare(query_codes, db_codes, query_labels, db_labels, strict=strict, backend=backend)
    nq, nd = int(inp.q_bits.shape[0]), int(inp.d_bits.shape[0])
    r = resolve_topk(topk, nd)
    cuts = _cutoffs(cutoffs, nd, "cutoffs", clip=cutoffs is None)
    depth = min(nd, max([r if exact_ap else 0, *cuts, 0]))
    if inp.device is None:
        acc = _scan_numpy(
            inp, r, depth, cuts, exact_ap, tile_pairs or _TILE_PAIRS, threads, tie_averaged, pooled
        )
    else:
        chunk = tile_pairs or (_CUDA_CHUNK_PAIRS if inp.device.type == "cuda" else _TILE_PAIRS)
        acc = _scan_torch(inp, r, depth, cuts, exact_ap, chunk)
    tie = acc.ap_tie
    if tie_averaged and tie is None:  # the torch backend leaves it to the host
        tie = _tie_averaged_threads(acc.hist, r, threads)
    return RankingSummary(nq, nd, inp.bits, r, cuts, acc.hist, acc.ap, acc.hits_at, tie, acc.exact_through)


def average_precisions(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array, topk: int | str | None = None
) -> np.ndarray:
    """Per-query AP@R under the stable ranking (ascending d, ties by ascending database index).

    AP@R = (1/H) Σ_{j=1..H} j / rank_j over the H hits inside the top R; 0 when H = 0.
    """
    return summarize(query_codes, db_codes, query_labels, db_labels, topk=topk, tie_averaged=False).ap


def mean_average_precision(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array, topk: int | str | None = None
) -> float:
    """mAP@R: the mean over all queries of :func:`average_precisions` (R = ``topk``; None = all).

    The CMMQ paper's metric with R = 5000 (CMMQ §4.2; DeepHash-pytorch CalcTopMap).
    """
    return float(average_precisions(query_codes, db_codes, query_labels, db_labels, topk).mean())


def tie_averaged_average_precisions(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array, topk: int | str | None = None
) -> np.ndarray:
    """Per-query tie-averaged AP@R: the exact expectation of AP@R over uniformly random orders
    inside every group of tied distances (McSherry & Najork, ECIR 2008; docs/metrics.md)."""
    return summarize(query_codes, db_codes, query_labels, db_labels, topk=topk, exact_ap=False).ap_tie


def tie_averaged_map(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array, topk: int | str | None = None
) -> float:
    """Mean over queries of :func:`tie_averaged_average_precisions` — order-independent mAP@R."""
    return float(tie_averaged_average_precisions(query_codes, db_codes, query_labels, db_labels, topk).mean())


def precision_at_n(
    query_codes: Array,
    db_codes: Array,
    query_labels: Array,
    db_labels: Array,
    n: Sequence[int] | int | None = None,
) -> np.ndarray:
    """Mean precision@N = (hits in the top N of the stable ranking)/N for each N (CMMQ §4.2
    "TopN-precision", docs/metrics.md). ``n=None`` → :data:`DEFAULT_CUTOFFS` up to the database
    size; an N beyond the database size counts all hits, still divided by N."""
    s = summarize(
        query_codes, db_codes, query_labels, db_labels, cutoffs=n, exact_ap=False, tie_averaged=False
    )
    return s.precision_at()


def recall_at_k(
    query_codes: Array,
    db_codes: Array,
    query_labels: Array,
    db_labels: Array,
    k: Sequence[int] | int | None = None,
) -> np.ndarray:
    """Mean recall@k = (hits in the top k)/(relevant items in the database) for each k; a query
    with no relevant item scores 0 (CMMQ §4.2, docs/metrics.md). ``k=None`` as for P@N."""
    s = summarize(
        query_codes, db_codes, query_labels, db_labels, cutoffs=k, exact_ap=False, tie_averaged=False
    )
    return s.recall_at()


def pr_by_radius(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array
) -> dict[str, list]:
    """Hash-lookup precision/recall for every radius r = 0…K, pooled over all query–item pairs
    (DCMH MATLAB ``calcPreRecRadiusLabel.m``; CMMQ §4.3.2). P(r) = 0 when nothing lies within r;
    unlike DCMH, r runs to K so the last point has recall 1 (when any pair is relevant)."""
    s = summarize(query_codes, db_codes, query_labels, db_labels, exact_ap=False, tie_averaged=False)
    return s.pr_by_radius()


def precision_within_radius(
    query_codes: Array, db_codes: Array, query_labels: Array, db_labels: Array, radius: int = 2
) -> float:
    """Mean over queries of (relevant items within d ≤ radius)/(items within d ≤ radius); a query
    retrieving nothing scores 0 (P@H≤2 of DCH/CMHH for radius 2; docs/metrics.md)."""
    s = summarize(query_codes, db_codes, query_labels, db_labels, exact_ap=False, tie_averaged=False)
    return s.precision_within_radius(radius)


def hamming_distances(query_codes: Array, db_codes: Array) -> np.ndarray:
    """The full (queries × database) matrix of d = (K − q·b)/2 as int32 (for small inputs)."""
    q = code_bits(query_codes, "query_codes")
    d = code_bits(db_codes, "db_codes")
    q = q.cpu().numpy() if _is_tensor(q) else q
    d = d.cpu().numpy() if _is_tensor(d) else d
    if q.shape[1] != d.shape[1]:
        raise MetricInputError(f"db_codes: {d.shape[1]} bits per code but query_codes has {q.shape[1]}")
    qf, df = q.astype(np.int32) * 2 - 1, d.astype(np.int32) * 2 - 1
    return (q.shape[1] - qf @ df.T) // 2


def relevance(query_labels: Array, db_labels: Array) -> np.ndarray:
    """The (queries × database) boolean relevance matrix: ≥ 1 shared label, or equal class."""
    qk, ql = _label_kind(query_labels, "query_labels", False)
    dk, dl = _label_kind(db_labels, "db_labels", False)
    ql = ql.cpu().numpy() if _is_tensor(ql) else ql
    dl = dl.cpu().numpy() if _is_tensor(dl) else dl
    if qk != dk:
        raise MetricInputError("db_labels: label kind (multi-hot / class indices) differs from query_labels")
    if qk == "class":
        return ql[:, None] == dl[None, :]
    return (ql.astype(np.float32) @ dl.T.astype(np.float32)) > 0


def evaluate(
    query_codes: Array,
    db_codes: Array,
    query_labels: Array,
    db_labels: Array,
    topk: int | str | None = None,
    curves: bool = True,
    cutoffs: Sequence[int] | None = None,
    backend: str = "auto",
    strict: bool = False,
    threads: int = 1,
    per_query: bool = False,
    pr_curve: bool = True,
) -> dict[str, Any]:
    """All metrics of one retrieval direction as a dict (one pass); JSON-serialisable unless ``per_query``.

    Keys: ``topk`` (as given; None = whole database), ``map`` (mAP@R), ``map_tie_averaged``,
    ``semantics``, ``num_queries``, ``num_database``, ``bits``; with ``curves`` also
    ``topn_precision`` {n, precision}, ``recall_at_k`` {k, recall}, ``pr_radius``
    {radius, precision, recall} and ``precision_radius2``. ``curves=False`` is the cheap
    per-epoch path (mAP@R and the tie-averaged mAP@R only). ``cutoffs``, ``backend``, ``strict``,
    ``threads``: as in :func:`summarize`. ``per_query=True`` adds ``per_query``: the dict of
    NumPy arrays of :func:`per_query_values` (the caller stores it beside the JSON, e.g. in an .npz).
    ``pr_curve=False`` leaves ``pr_radius`` out of the curves: the pooled curve needs every pair's
    distance and relevance counted, the rest only each query's top R (``summarize(pooled=False)``;
    on a NUS-WIDE-sized problem about 1.4× faster, every other value the same).
    """
    s = summarize(
        query_codes,
        db_codes,
        query_labels,
        db_labels,
        topk=topk,
        cutoffs=cutoffs if curves else (),
        backend=backend,
        strict=strict,
        threads=threads,
        pooled=curves and pr_curve,
    )
    out: dict[str, Any] = {
        "topk": _topk_label(topk),
        "map": s.map(),
        "map_tie_averaged": s.map_tie_averaged(),
    }
    if curves:
        out["topn_precision"] = {"n": list(s.cutoffs), "precision": [float(v) for v in s.precision_at()]}
        out["recall_at_k"] = {"k": list(s.cutoffs), "recall": [float(v) for v in s.recall_at()]}
        if pr_curve:
            out["pr_radius"] = s.pr_by_radius()
        out["precision_radius2"] = s.precision_within_radius(2)
    out.update(semantics=SEMANTICS, num_queries=s.num_queries, num_database=s.num_database, bits=s.bits)
    if per_query:
        out["per_query"] = per_query_values(s)
    if not math.isfinite(out["map"]):  # pragma: no cover - defensive; inputs are validated
        raise MetricInputError("result: non-finite mAP")
    return out
