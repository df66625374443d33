"""Small results folders for the report / plot / check tests, written without training.

Each run is an :class:`xbench.running.config.RunResult` with hand-chosen metrics (and, where asked,
curves, history and per-sample losses) stored by :func:`xbench.running.store.save_result`, i.e. in
exactly the files ``xbench run`` writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from xbench.running.config import RunConfig, RunResult
from xbench.running.store import save_result


def curves(level: float, bits: int) -> dict[str, Any]:
    """Plausible monotone curves whose height grows with ``level``."""
    n = [1, 10, 50, 100, 500]
    radius = list(range(bits + 1))
    recall = [min(1.0, (r / bits) ** 0.7) for r in radius]
    return {
        "topn_precision": {"n": n, "precision": [level * (1 - 0.05 * i) for i in range(len(n))]},
        "recall_at_k": {"k": n, "recall": [level * k / 500 for k in n]},
        "pr_radius": {
            "radius": radius,
            "recall": recall,
            "precision": [level * (1 - 0.5 * rc) for rc in recall],
        },
        "precision_radius2": level * 0.9,
    }


def make_run(
    results: Path,
    method: str,
    dataset: str,
    bits: int,
    i2t: float,
    t2i: float,
    *,
    noise: str = "none",
    seed: int = 0,
    hparams: dict[str, Any] | None = None,
    topk: int | None = 5000,
    resolved: dict[str, Any] | None = None,
    with_curves: bool = False,
    epochs: int = 3,
    history: bool = False,
    losses: bool = False,
    status: str = "ok",
    error: str | None = None,
    noise_per_modality: bool = False,
) -> Path:
    """Store one run; returns its JSON path."""
    hparams = dict(hparams or {})
    cfg = RunConfig(
        method=method,
        dataset=dataset,
        bits=bits,
        noise=noise,
        seed=seed,
        epochs=epochs,
        hparams=tuple(sorted(hparams.items())),
        noise_per_modality=noise_per_modality,
    )
    result = RunResult(
        run_id=cfg.run_id(),
        config=cfg.identity() | {"group": ""},
        status=status,
        error=error,
        hyperparameters={**(resolved or {}), **hparams} if status == "ok" else {},
    )
    if status == "ok":
        result.metrics = {}
        for task, value in (("i2t", i2t), ("t2i", t2i)):
            m = {"topk": topk, "map": value, "map_tie_averaged": value - 0.001}
            if with_curves:
                m.update(curves(value, bits))
            result.metrics[task] = m
        result.extra = {"epochs": epochs, "topk": topk}
        result.timings = {"train": 1.0}
    if history:
        result.history = [
            {
                "epoch": e,
                "loss": 1.0 / e,
                "test_i2t": i2t * e / epochs,
                "test_t2i": t2i * e / epochs,
                "train_noisy_i2t": 0.3 + 0.1 * e,
                "train_noisy_t2i": 0.3 + 0.09 * e,
                "train_clean_i2t": 0.5 + 0.05 * e,
                "train_clean_t2i": 0.5 + 0.04 * e,
            }
            for e in range(1, epochs + 1)
        ]
        if losses:  # a selecting method: selection quality per epoch (xbench.evaluating.selection_quality)
            for entry in result.history:
                e = entry["epoch"]
                entry.update(
                    {
                        "selected_fraction": 1 - 0.1 * e,
                        "selected_clean_precision": 0.5 + 0.1 * e,
                        "selected_clean_recall": 0.9 - 0.05 * e,
                        "selected_overlap_precision": 0.6 + 0.1 * e,
                        "selected_overlap_recall": 0.95 - 0.05 * e,
                    }
                )
            result.extra["selection_base"] = {"clean": 0.4, "overlap": 0.5}
    if losses:
        rng = np.random.default_rng(seed)
        corrupted = np.arange(200) % 3 == 0
        result.arrays = {
            "corrupted": corrupted,
            f"sample_losses_epoch{epochs}": np.where(
                corrupted, rng.normal(3, 0.5, 200), rng.normal(1, 0.3, 200)
            ).astype(np.float32),
        }
    return save_result(results, result)


def table_results(results: Path) -> Path:
    """Two methods × (16, 32 bits) on 'synthetic' under symmetric:0.6; cmmq with two seeds, lsh one
    seed, one missing cell (lsh 32 bits) and one failed run (lsh 32 bits)."""
    make_run(results, "cmmq", "synthetic", 16, 0.69, 0.60, noise="symmetric:0.6", seed=0)
    make_run(results, "cmmq", "synthetic", 16, 0.71, 0.62, noise="symmetric:0.6", seed=1)
    make_run(results, "cmmq", "synthetic", 32, 0.72, 0.64, noise="symmetric:0.6", seed=0)
    make_run(results, "cmmq", "synthetic", 32, 0.74, 0.66, noise="symmetric:0.6", seed=1)
    make_run(results, "lsh", "synthetic", 16, 0.55, 0.61, noise="symmetric:0.6", seed=0)
    make_run(results, "lsh", "synthetic", 16, 0.57, 0.63, noise="symmetric:0.6", seed=1)
    make_run(
        results,
        "lsh",
        "synthetic",
        32,
        0.0,
        0.0,
        noise="symmetric:0.6",
        seed=0,
        status="failed",
        error="RuntimeError: boom",
    )
    return results


def test_fixture_writes_the_store_layout(tmp_path):
    path = make_run(tmp_path, "lsh", "synthetic", 16, 0.5, 0.4, with_curves=True, losses=True)
    assert path.parent == tmp_path / "runs" / "synthetic" / "lsh"
    assert path.with_suffix(".npz").exists()
