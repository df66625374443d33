"""Regression gate: compare a results folder with a baseline file of mean mAP per cell.

A **cell** is (method, hparams, dataset, bits, noise, task); its value is the mean of the metric
over the seeds recorded in the baseline. :func:`make_baseline` writes the baseline from a
results folder; :func:`compare` checks results against it:

* ``regression`` — current < baseline − tolerance (absolute mAP; fails the check);
* ``improvement`` — current > baseline + tolerance (reported; passes);
* ``missing`` — no successful run for the cell, or one of its seeds absent or failed (fails);
* ``changed`` — the cell was evaluated with another R of mAP@R than the baseline (fails: the
  numbers are not comparable);
* ``ok`` — within tolerance.

A damaged result file (unparsable, or a JSON of the wrong shape; see :mod:`xbench.reporting.results`)
fails the check too: it is listed as ``damaged`` with the file and the reason.

Cells present in the results but not in the baseline are counted as ``new`` and do not fail.
The idea follows noisypy's performance targets (KlemenVovk/noisy-labels @ 3d92600,
``tests/test_framework``) with a tolerance instead of exact targets, because mAP depends on the order of
Hamming-distance ties unless that order is fixed (docs/metrics.md, "How peers differ": differences of
about 1e-3
from tie order alone, 5e-3 across implementations).

Baseline file (JSON, ``format: "xbench-baseline"``, ``version: 1``)::

    {"format": "xbench-baseline", "version": 1, "metric": "map", "metric_column": "map",
     "xbench": "0.1.0", "tolerance_hint": 0.01,
     "cells": [{"method": "lsh", "hparams": {}, "dataset": "synthetic", "bits": 16,
                "noise": "none", "task": "i2t", "R": "5000", "value": 0.5777,
                "std": null, "n_seeds": 1, "seeds": [0]}, ...]}

``noise`` is the noise setting as in the report (``TYPE:RATE`` or ``none``, followed by
``; per-modality`` etc. when the run used a non-default protocol); ``R`` is R of mAP@R
(``all`` = whole database). The file has no time stamp, so regenerating it from the same
results gives the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from xbench._version import __version__
from xbench.errors import XbenchError
from xbench.reporting.results import (
    METRIC_COLUMNS,
    METRIC_NAMES,
    TASKS,
    Damaged,
    failed_runs,
    ok_rows,
    summarise,
)

BASELINE_FORMAT = "xbench-baseline"
BASELINE_VERSION = 1
KEY_FIELDS = ("method", "hparams", "dataset", "bits", "noise", "task")
FAILING = ("regression", "missing", "changed")


@dataclass(frozen=True)
class CellKey:
    """(method, hparams as sorted JSON, dataset, bits, noise setting, task)."""

    method: str
    hparams: str
    dataset: str
    bits: int
    noise: str
    task: str

    def label(self) -> str:
        hp = json.loads(self.hparams)
        name = self.method + ("[" + ",".join(f"{k}={v}" for k, v in sorted(hp.items())) + "]" if hp else "")
        return f"{name} {self.dataset} {self.bits}b {self.noise} {self.task}"


@dataclass
class Outcome:
    key: CellKey
    status: str  # ok | regression | improvement | missing | changed
    baseline: float
    current: float | None = None
    detail: str = ""

    @property
    def diff(self) -> float | None:
        return None if self.current is None else self.current - self.baseline


@dataclass
class CheckReport:
    outcomes: list[Outcome]
    new_cells: int
    tolerance: float
    metric: str
    damaged: list[Damaged] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.damaged and not any(o.status in FAILING for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def _cell_values(frame: pd.DataFrame, metric: str) -> dict[CellKey, pd.DataFrame]:
    ok, _ = ok_rows(frame, metric)
    out = {}
    for (method, hparams, dataset, bits, noise, task), g in ok.groupby(
        ["method", "hparams", "dataset", "bits", "setting", "task"], sort=True
    ):
        out[CellKey(str(method), str(hparams), str(dataset), int(bits), str(noise), str(task))] = g
    return out


def make_baseline(frame: pd.DataFrame, metric: str = "map", tolerance_hint: float = 0.01) -> dict[str, Any]:
    """The baseline document (see the module docstring) of an annotated results frame."""
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric '{metric}'")
    cells = []
    for key, g in _cell_values(frame, metric).items():
        if g["r"].nunique() > 1:
            raise XbenchError(
                f"cell {key.label()} was evaluated with several R ({', '.join(sorted(g['r']))}); "
                "keep one in the results folder"
            )
        g = g.sort_values("seed")
        stat = summarise(g["value"], g["seed"])
        cells.append(
            {
                "method": key.method,
                "hparams": json.loads(key.hparams),
                "dataset": key.dataset,
                "bits": key.bits,
                "noise": key.noise,
                "task": key.task,
                "R": str(g["r"].iloc[0]),
                "value": stat.mean,
                "std": stat.std,
                "n_seeds": stat.n,
                "seeds": list(stat.seeds),
            }
        )
    if not cells:
        raise XbenchError("no successful run in the results: a baseline needs at least one")
    return {
        "format": BASELINE_FORMAT,
        "version": BASELINE_VERSION,
        "metric": metric,
        "metric_column": METRIC_COLUMNS[metric],
        "xbench": __version__,
        "tolerance_hint": tolerance_hint,
        "cells": cells,
    }


def dumps_baseline(doc: dict[str, Any]) -> str:
    """JSON text with one line per cell (readable diffs when a baseline is regenerated)."""
    head = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in doc.items() if k != "cells"]
    cells = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in doc["cells"])
    return "\n".join(["{", *head, ' "cells": [', cells, " ]", "}"]) + "\n"


def read_baseline(path: str | Path) -> dict[str, Any]:
    """Parse and validate a baseline file; any problem is a one-line :class:`XbenchError`."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XbenchError(f"--baseline {path}: no such file (create one with 'xbench baseline')") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise XbenchError(f"--baseline {path}: unreadable ({exc})") from None
    except ValueError as exc:
        raise XbenchError(f"--baseline {path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != BASELINE_FORMAT:
        raise XbenchError(
            f'--baseline {path}: not an xbench baseline (expected "format": "{BASELINE_FORMAT}")'
        )
    if doc.get("version") != BASELINE_VERSION:
        raise XbenchError(
            f"--baseline {path}: version {doc.get('version')!r} is not supported "
            f"(expected {BASELINE_VERSION})"
        )
    if doc.get("metric") not in METRIC_COLUMNS:
        raise XbenchError(f"--baseline {path}: 'metric' must be one of {', '.join(METRIC_COLUMNS)}")
    cells = doc.get("cells")
    if not isinstance(cells, list) or not cells:
        raise XbenchError(f"--baseline {path}: 'cells' must be a non-empty list")
    for i, c in enumerate(cells):
        if not isinstance(c, dict):
            raise XbenchError(f"--baseline {path}: cell {i} must be an object")
        seeds = c.get("seeds") or []
        if not isinstance(seeds, list) or any(isinstance(s, bool) or not isinstance(s, int) for s in seeds):
            raise XbenchError(f"--baseline {path}: cell {i}: 'seeds' must be a list of integers")
        need = [k for k in ("method", "dataset", "bits", "noise", "task", "value") if k not in c]
        if need:
            raise XbenchError(f"--baseline {path}: cell {i} lacks {', '.join(need)}")
        if c["task"] not in TASKS:
            raise XbenchError(f"--baseline {path}: cell {i} has task '{c['task']}', expected i2t or t2i")
        try:
            c["value"] = float(c["value"])
            c["bits"] = int(c["bits"])
        except (TypeError, ValueError):
            raise XbenchError(f"--baseline {path}: cell {i}: 'value' and 'bits' must be numbers") from None
        if not math.isfinite(c["value"]):
            raise XbenchError(f"--baseline {path}: cell {i}: 'value' must be finite")
        if not isinstance(c.get("hparams", {}), dict):
            raise XbenchError(f"--baseline {path}: cell {i}: 'hparams' must be an object")
        seeds = c.get("seeds") or []
        if not isinstance(seeds, list) or any(isinstance(x, bool) or not isinstance(x, int) for x in seeds):
            raise XbenchError(f"--baseline {path}: cell {i}: 'seeds' must be a list of integers")
    return doc


def _key_of(cell: dict[str, Any]) -> CellKey:
    return CellKey(
        str(cell["method"]),
        json.dumps(cell.get("hparams") or {}, sort_keys=True),
        str(cell["dataset"]),
        int(cell["bits"]),
        str(cell["noise"]),
        str(cell["task"]),
    )


def check_tolerance(tolerance: Any) -> float:
    """``tolerance`` as a finite float ≥ 0; a one-line :class:`XbenchError` otherwise (NaN compares
    false with everything, so a NaN tolerance would pass every regression)."""
    try:
        value = float(tolerance)
    except (TypeError, ValueError):
        raise XbenchError(f"--tolerance: expected a number ≥ 0, got {tolerance!r}") from None
    if not math.isfinite(value) or value < 0:
        raise XbenchError(f"--tolerance: expected a finite number ≥ 0, got {value:g}")
    return value


def compare(
    frame: pd.DataFrame,
    baseline: dict[str, Any],
    tolerance: float = 0.01,
    damaged: list[Damaged] | None = None,
) -> CheckReport:
    """Check every baseline cell against the results (see the module docstring for the statuses);
    ``damaged`` result files (from :func:`xbench.reporting.results.load`) fail the check."""
    tolerance = check_tolerance(tolerance)
    metric = baseline["metric"]
    current = _cell_values(frame, metric)
    failures: dict[tuple, list[str]] = {}
    for f in failed_runs(frame):
        failures.setdefault((f["method"], f["dataset"], int(f["bits"]), f["noise"]), []).append(
            f"seed {f['seed']} failed: {f['error']}"
        )
    outcomes = []
    keys = set()
    eps = 1e-12
    for cell in baseline["cells"]:
        key = _key_of(cell)
        keys.add(key)
        base = float(cell["value"])
        g = current.get(key)
        seeds = [int(s) for s in cell.get("seeds") or []]
        if g is not None and seeds:
            absent = sorted(set(seeds) - {int(s) for s in g["seed"]})
            g = g[g["seed"].isin(seeds)]
        else:
            absent = []
        if g is None or g.empty or absent:
            why = failures.get((key.method, key.dataset, key.bits, key.noise))
            detail = (
                "; ".join(why)
                if why
                else f"seed(s) {', '.join(map(str, absent))} absent"
                if absent and g is not None and not g.empty
                else "no successful run"
            )
            outcomes.append(Outcome(key, "missing", base, None, detail))
            continue
        value = summarise(g["value"], g["seed"]).mean
        r_now = sorted({str(r) for r in g["r"]})
        if cell.get("R") is not None and r_now != [str(cell["R"])]:
            outcomes.append(
                Outcome(
                    key,
                    "changed",
                    base,
                    value,
                    f"R changed: baseline {cell['R']}, results {', '.join(r_now)}",
                )
            )
            continue
        diff = value - base
        status = (
            "regression" if diff < -tolerance - eps else "improvement" if diff > tolerance + eps else "ok"
        )
        outcomes.append(Outcome(key, status, base, value, f"mean over {len(g)} seed(s)"))
    new = sum(1 for k in current if k not in keys)
    return CheckReport(outcomes, new, tolerance, metric, list(damaged or []))


def format_report(report: CheckReport, show_all: bool = False) -> list[str]:
    """A fixed-width table of the non-ok cells (every cell with ``show_all``) and a summary line."""
    order = {"regression": 0, "missing": 1, "changed": 2, "improvement": 3, "ok": 4}
    rows = sorted(
        (o for o in report.outcomes if show_all or o.status != "ok"),
        key=lambda o: (order[o.status], o.key.dataset, o.key.method, o.key.bits, o.key.noise, o.key.task),
    )
    lines = []
    if rows:

        def method_name(k: CellKey) -> str:
            hp = json.loads(k.hparams)
            return k.method + ("[" + ",".join(f"{a}={b}" for a, b in sorted(hp.items())) + "]" if hp else "")

        names = [method_name(o.key) for o in rows]
        wm = max(6, *(len(n) for n in names))
        wd = max(7, *(len(o.key.dataset) for o in rows))
        wn = max(5, *(len(o.key.noise) for o in rows))
        lines.append(
            f"{'status':<12} {'method':<{wm}} {'dataset':<{wd}} {'bits':>4} {'noise':<{wn}} {'task':<4} "
            f"{'baseline':>8} {'current':>8} {'Δ':>8}  detail"
        )
        for o, name in zip(rows, names, strict=False):
            cur = f"{o.current:.4f}" if o.current is not None else "—"
            diff = f"{o.diff:+.4f}" if o.diff is not None else "—"
            detail = o.detail if o.status != "ok" and o.status != "improvement" else ""
            lines.append(
                f"{o.status.upper():<12} {name:<{wm}} {o.key.dataset:<{wd}} {o.key.bits:>4} "
                f"{o.key.noise:<{wn}} {o.key.task:<4} {o.baseline:>8.4f} {cur:>8} {diff:>8}  {detail}"
            )
    for d in report.damaged:
        lines.append(f"DAMAGED      {d.path}: {d.reason}")
    verdict = "PASSED" if report.passed else "FAILED"
    lines.append(
        f"{verdict}: {len(report.outcomes)} baseline cell(s): {report.count('ok')} ok, "
        f"{report.count('regression')} regression(s), {report.count('improvement')} improvement(s), "
        f"{report.count('missing')} missing, {report.count('changed')} changed R; {report.new_cells} new "
        f"cell(s) not in the baseline; {len(report.damaged)} damaged result file(s) "
        f"(tolerance {report.tolerance:g} absolute {METRIC_NAMES[report.metric]})."
    )
    return lines
