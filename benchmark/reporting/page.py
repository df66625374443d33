"""What the HTML report page shows besides the tables: figures, run settings, unhealthy runs.

* :func:`figures` renders the figures the results support (:func:`xbench.reporting.plots.plot`, PNG, into a
  temporary folder that is removed afterwards) and returns them as
  :class:`xbench.reporting.render.Figure` objects, to be embedded in the page as base64.
* :func:`run_settings` — one row per run: method, dataset, bits, noise, seed, epochs, overrides,
  status, xbench/torch version, device, training time.
* :func:`unhealthy_runs` — the runs whose codes :mod:`xbench.evaluating.health` finds unhealthy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from xbench.errors import XbenchError
from xbench.reporting.render import Figure
from xbench.reporting.results import DamagedResult, RunRecord, code_health, read_run

#: Figure kinds put in the page, with the caption text of each kind.
PAGE_KINDS = {
    "topn": "topN-precision against N (CMMQ Fig. 4a/5a)",
    "recall": "recall@k against k (CMMQ Fig. 4b/5b)",
    "pr": "precision–recall of hash lookup by Hamming radius (CMMQ Fig. 4c/5c)",
    "epochs": "mAP against epoch: training set with noisy labels, test set, training set with clean labels "
    "(CMMQ Fig. 8)",
    "noise-sweep": "mAP against the noise rate ρ per method",
}


def figures(
    frame: pd.DataFrame, metric: str = "map", limit: int = 60, dpi: int = 100
) -> tuple[list[Figure], list[str]]:
    """Every figure of :data:`PAGE_KINDS` the results support (at most ``limit``), and notes."""
    from xbench.reporting import plots

    out: list[Figure] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="xbench-page-") as tmp:
        for kind, text in PAGE_KINDS.items():
            try:
                paths = plots.plot(frame, kind, Path(tmp) / kind, metric=metric, formats=("png",), dpi=dpi)
            except XbenchError:
                continue  # the results hold nothing this kind can show
            for path in sorted(paths):
                if len(out) >= limit:
                    notes.append(f"only the first {limit} figures are embedded; 'xbench plot' draws all")
                    return out, notes
                out.append(
                    Figure(
                        caption=f"{text}; {Path(path).stem}.",
                        png=Path(path).read_bytes(),
                        name=Path(path).name,
                    )
                )
    return out, notes


def _record(path: str) -> RunRecord | None:
    try:
        return read_run(path)
    except DamagedResult:
        return None  # the frame was built from it; a file damaged since is left out of the page


def _runs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop_duplicates("run_id").sort_values(
        ["dataset", "method", "bits", "noise", "seed"], kind="stable"
    )


def run_settings(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per run of the report."""
    rows = []
    for r in _runs(frame).itertuples(index=False):
        rec = _record(str(r.path))
        if rec is None:
            continue
        env, cfg = rec.environment, rec.config
        rows.append(
            {
                "method": getattr(r, "label", r.method),
                "dataset": r.dataset,
                "bits": r.bits,
                "noise": getattr(r, "setting", r.noise),
                "seed": r.seed,
                "epochs": None if pd.isna(r.epochs) else int(r.epochs),
                "overrides": ", ".join(f"{k}={v}" for k, v in sorted(rec.hparams.items())),
                "R": rec.extra.get("topk", cfg.get("topk")),
                "status": r.status,
                "xbench": env.get("xbench", cfg.get("version")),
                "torch": env.get("torch"),
                "device": env.get("device"),
                "train s": None if pd.isna(r.train_seconds) else round(float(r.train_seconds), 1),
                "run id": r.run_id,
            }
        )
    return rows


def _problem_of_run(rec: RunRecord) -> str | None:
    """The problems :mod:`xbench.evaluating.health` finds in a run's codes (stored field, else computed)."""
    from xbench.evaluating import health

    found = health.problems(code_health(rec))
    return "; ".join(map(str, found)) if found else None


def unhealthy_runs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The runs whose stored ``health`` field reports a problem."""
    rows = []
    for r in _runs(frame).itertuples(index=False):
        rec = _record(str(r.path)) if r.status == "ok" else None
        problem = _problem_of_run(rec) if rec is not None else None
        if problem:
            rows.append(
                {
                    "method": getattr(r, "label", r.method),
                    "dataset": r.dataset,
                    "bits": r.bits,
                    "noise": getattr(r, "setting", r.noise),
                    "seed": r.seed,
                    "problem": problem,
                    "run id": r.run_id,
                }
            )
    return rows
