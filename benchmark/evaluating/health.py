"""Code health: is a run's hash code usable, or has it collapsed onto a few codes?

A collapsed method (a few distinct codes for thousands of items) still gets an mAP — the
all-tied ranking of its query against a database of identical codes — and looks like a
working one in a table. :func:`code_health` measures the ±1 codes a run stored, per set
(``query``, ``database``) and modality (``image``, ``text``):

* ``distinct`` — the number of distinct codes, and ``distinct_fraction`` = distinct / n;
* ``bit_balance`` — the mean over bits of \\|mean of the bit over the set\\| (0: every bit is
  +1 for half of the items; 1: every bit is constant);
* ``constant_bits`` — bits with the same value for every item of the set;

and per retrieval task (``i2t``: image queries against the text database, ``t2i``) the share
of the database tied at each query's nearest Hamming distance (``tied_at_nearest``: mean,
median and maximum over queries; 1/n_db is the floor, 1 means every database item is at the
nearest distance).

:func:`problems` lists what makes a run *unhealthy* under :data:`THRESHOLDS`:

* ``min_distinct_fraction`` (0.10): a modality's database holds fewer distinct codes than
  10 % of min(n_db, 2^K) (the cap keeps short codes on big databases judgeable);
* ``max_bit_balance`` (0.75): a set's bit balance is above 0.75 (on average a bit takes the same
  value for more than 87.5 % of the items). Not 0.6: ``cmmq`` at symmetric:0.6 on ``synthetic``
  has bit balance 0.65–0.70 (its majority-vote proxy targets are skewed) with 84 % distinct
  database codes and 0.1 % of the database tied at the nearest distance — skewed, not collapsed.

The runner stores ``code_health(codes)`` in every successful run (``health`` in the result
JSON); the results layer (:func:`xbench.reporting.results.code_health`) reads it back, or computes
it with :func:`code_health` from the run's stored codes for runs made before the field existed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

THRESHOLDS: dict[str, float] = {"min_distinct_fraction": 0.10, "max_bit_balance": 0.75}
SETS = {"query": "query", "database": "db"}  # set name → prefix of the stored code arrays
MODALITIES = ("image", "text")
TASK_CODES = {"i2t": ("query_image", "db_text"), "t2i": ("query_text", "db_image")}
MARK = "†"  # the report's marker of a cell with an unhealthy run (LaTeX: \dag)


def _as_array(codes: Any) -> np.ndarray:
    if hasattr(codes, "detach"):
        codes = codes.detach().cpu().numpy()
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(f"expected an N×K code matrix, got shape {arr.shape}")
    return arr


def set_health(codes: Any) -> dict[str, float]:
    """Distinct codes, bit balance and constant bits of one N×K ±1 code matrix."""
    b = _as_array(codes)
    n, k = b.shape
    if n == 0:
        return {
            "n": 0,
            "bits": int(k),
            "distinct": 0,
            "distinct_fraction": 0.0,
            "bit_balance": 0.0,
            "constant_bits": 0,
        }
    signs = np.where(b >= 0, 1, -1).astype(np.int8)
    distinct = len(np.unique(np.packbits(signs > 0, axis=1), axis=0))
    mean_bit = signs.astype(np.float64).mean(0)
    return {
        "n": int(n),
        "bits": int(k),
        "distinct": distinct,
        "distinct_fraction": distinct / n,
        "bit_balance": float(np.abs(mean_bit).mean()),
        "constant_bits": int((np.abs(mean_bit) == 1.0).sum()),
    }


def tied_at_nearest(query: Any, database: Any, chunk: int = 1024) -> np.ndarray:
    """Per query, the share of the database at the query's nearest Hamming distance."""
    q = np.where(_as_array(query) >= 0, 1.0, -1.0).astype(np.float32)
    d = np.where(_as_array(database) >= 0, 1.0, -1.0).astype(np.float32)
    if q.shape[1] != d.shape[1]:
        raise ValueError(f"query codes have {q.shape[1]} bits, database codes {d.shape[1]}")
    if len(d) == 0:
        return np.zeros(len(q))
    out = np.empty(len(q))
    for start in range(0, len(q), chunk):
        ip = q[start : start + chunk] @ d.T  # Hamming distance = (K − ip)/2, so nearest = largest ip
        out[start : start + chunk] = (ip == ip.max(1, keepdims=True)).sum(1) / len(d)
    return out


def code_health(codes: dict[str, Any]) -> dict[str, Any]:
    """Health of a run's codes ``{"query_image", "query_text", "db_image", "db_text"}`` (N×K ±1)."""
    out: dict[str, Any] = {"sets": {}, "tied_at_nearest": {}}
    for name, prefix in SETS.items():
        out["sets"][name] = {
            m: set_health(codes[f"{prefix}_{m}"]) for m in MODALITIES if f"{prefix}_{m}" in codes
        }
    for task, (q, d) in TASK_CODES.items():
        if q in codes and d in codes:
            share = tied_at_nearest(codes[q], codes[d])
            out["tied_at_nearest"][task] = {
                "mean": float(share.mean()) if len(share) else 0.0,
                "median": float(np.median(share)) if len(share) else 0.0,
                "max": float(share.max()) if len(share) else 0.0,
            }
    out["problems"] = problems(out)
    return out


def problems(health: dict[str, Any] | None, thresholds: dict[str, float] | None = None) -> list[str]:
    """What makes a run unhealthy (empty when healthy or unknown), one short phrase each."""
    if not health:
        return []
    th = {**THRESHOLDS, **(thresholds or {})}
    found = []
    for set_name, per_modality in (health.get("sets") or {}).items():
        for modality, h in per_modality.items():
            n, k = int(h.get("n", 0)), int(h.get("bits", 0))
            if n == 0:
                continue
            if set_name == "database":
                cap = n if k >= 62 else min(n, 2**k)
                if h["distinct"] < th["min_distinct_fraction"] * cap:
                    found.append(
                        f"{modality} database: {h['distinct']} distinct codes "
                        f"(< {th['min_distinct_fraction']:.0%} of {cap})"
                    )
            if h["bit_balance"] > th["max_bit_balance"]:
                found.append(
                    f"{modality} {set_name}: bit balance {h['bit_balance']:.2f} (> {th['max_bit_balance']:g})"
                )
    return found


def footnote(thresholds: dict[str, float] | None = None) -> str:
    """The report's footnote explaining :data:`MARK`."""
    th = {**THRESHOLDS, **(thresholds or {})}
    return (
        f"{MARK} = unhealthy codes in at least one seed of the cell: a modality's database holds fewer "
        f"distinct codes than {th['min_distinct_fraction']:.0%} of min(database size, 2^bits), or a "
        f"set's bit balance (mean over bits of |mean bit|) is above {th['max_bit_balance']:g} "
        "(docs/health.md)"
    )


__all__ = [
    "MARK",
    "THRESHOLDS",
    "code_health",
    "footnote",
    "problems",
    "set_health",
    "tied_at_nearest",
]
