"""A results folder with stored per-query values (as ``xbench run`` writes them), without training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xbench.running.config import RunConfig, RunResult
from xbench.running.store import save_result

try:
    from test_report_fixtures import curves
except ImportError:  # pragma: no cover - when tests/ is a package
    from .test_report_fixtures import curves

NUM_QUERIES = 40
#: method → (shift of its per-query AP, noise seed); cmmq best, dcmh close behind, lsh far behind
METHODS = {"cmmq": (0.20, 1), "dcmh": (0.195, 2), "lsh": (-0.15, 3)}


def per_query(method: str, bits: int, task: str, seed: int) -> np.ndarray:
    """Shared per-query difficulty (same queries for every method) + the method's shift and noise."""
    base = np.random.default_rng(1000 * seed + bits + (task == "t2i")).beta(2, 3, NUM_QUERIES)
    shift, noise = METHODS[method]
    own = np.random.default_rng(10_000 * noise + 100 * seed + bits + (task == "t2i")).normal(
        0, 0.02, NUM_QUERIES
    )
    return np.clip(base + shift + own, 0.0, 1.0)


def make_pq_run(
    results: Path,
    method: str,
    bits: int,
    seed: int,
    *,
    noise: str = "symmetric:0.6",
    status: str = "ok",
    health: Any = None,
    with_curves: bool = True,
) -> Path:
    cfg = RunConfig(method=method, dataset="synthetic", bits=bits, noise=noise, seed=seed, epochs=3)
    result = RunResult(
        run_id=cfg.run_id(),
        config=cfg.identity() | {"group": ""},
        status=status,
        environment={"xbench": "test", "torch": "2", "device": "cpu"},
    )
    if status != "ok":
        result.error = "RuntimeError: boom"
        return save_result(results, result)
    arrays: dict[str, Any] = {"query_index": np.arange(1000, 1000 + NUM_QUERIES)}
    result.metrics = {}
    for task in ("i2t", "t2i"):
        ap = per_query(method, bits, task, seed)
        arrays[f"per_query_{task}_ap"] = ap
        arrays[f"per_query_{task}_ap_tie"] = ap - 0.001
        m = {
            "topk": 100,
            "map": float(ap.mean()),
            "map_tie_averaged": float((ap - 0.001).mean()),
            "num_queries": NUM_QUERIES,
        }
        if with_curves:
            m.update(curves(float(ap.mean()), bits))
        result.metrics[task] = m
    result.arrays = arrays
    result.extra = {"epochs": 3, "topk": 100}
    result.timings = {"train": 2.0}
    path = save_result(results, result)
    if health is not None:  # the code-health field another part of xbench may store
        import json

        data = json.loads(path.read_text())
        data["health"] = health
        path.write_text(json.dumps(data))
    return path


def pq_results(results: Path) -> Path:
    """cmmq/dcmh with seeds 0, 1; lsh with seed 0; 16 and 32 bits; one failed run; one unhealthy run."""
    for bits in (16, 32):
        for method in ("cmmq", "dcmh"):
            for seed in (0, 1):
                make_pq_run(results, method, bits, seed)
        make_pq_run(
            results,
            "lsh",
            bits,
            0,
            # xbench.evaluating.health's format: collapsed image codes in the database
            health={
                "sets": {"database": {"image": {"n": 100, "bits": 32, "distinct": 2, "bit_balance": 0.95}}},
                "tied_at_nearest": {},
            }
            if bits == 32
            else None,
        )
    make_pq_run(results, "lsh", 16, 1, status="failed")
    return results
