"""Confidence intervals and "not significantly different from the best" marks in report tables.

:func:`annotate_tables` takes the tables of :mod:`xbench.reporting.tables` (Table 2 and the noise-rate
sweep; other tables are left as they are) and, from the per-query values stored with each run
(:func:`xbench.reporting.stats.load_samples`):

* sets ``cell.ci = (low, high)``, the percentile bootstrap interval of the cell's mean
  (:func:`xbench.reporting.stats.bootstrap_ci`: over queries for one seed, over seeds with queries nested
  for several), seeded per cell by :func:`xbench.reporting.stats.cell_rng`;
* sets ``cell.tied = True`` on every value whose paired difference from the best value of its
  column (and task block) is not significant at ``alpha`` after Holm's correction over all the
  comparisons of the table (:func:`xbench.reporting.stats.compare`); the renderers mark it with
  :data:`xbench.reporting.render.TIED_MARK`;
* extends the caption with what was computed, and adds ``ci_low``/``ci_high``/``p_vs_best``/
  ``p_holm_vs_best``/``tied_with_best`` to the CSV records.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from xbench.reporting import stats
from xbench.reporting.results import ok_rows
from xbench.reporting.tables import Table

ANNOTATED_TABLES = ("table2", "table2-noise", "sweep")
TEST_NAMES = {
    "signflip": "sign-flip permutation test over queries",
    "wilcoxon": "Wilcoxon signed-rank test over queries",
}


def _cells_and_records(t: Table) -> list[tuple[Any, dict[str, Any]]] | None:
    """(cell, record) pairs in display order, or None when the table's records do not map 1:1."""
    cells = [c for block in t.blocks for _, row in block for c in row]
    records = [r for r in t.records if r.get("table") in ANNOTATED_TABLES]
    if not records or len(records) != len(cells) or len(records) != len(t.records):
        return None
    return list(zip(cells, records, strict=True))


def _key(rec: dict[str, Any]) -> tuple[str, tuple]:
    return str(rec["setting"]), (rec["dataset"], rec["R"], int(rec["bits"]), rec["task"])


def annotate_tables(
    tables: list[Table],
    frame: pd.DataFrame,
    metric: str = "map",
    *,
    ci: bool = True,
    significance: bool = True,
    level: float = 0.95,
    alpha: float = 0.05,
    test: str = "signflip",
    n_resamples: int = stats.N_RESAMPLES,
    seed: int = 0,
) -> list[str]:
    """Add intervals and tie marks to ``tables`` in place; returns notes (e.g. runs without
    per-query values)."""
    ok, _ = ok_rows(frame, metric)
    samples, notes = stats.load_samples(ok, metric)
    n_with = 0
    for t in tables:
        pairs = _cells_and_records(t)
        if pairs is None:
            continue
        # column groups: the cells that share a column (and task block) compete for "best"
        groups: dict[tuple, dict[str, stats.Sample]] = {}
        shown: dict[tuple, list[tuple[Any, dict[str, Any]]]] = {}
        for cell, rec in pairs:
            if cell is None:
                continue
            setting, key = _key(rec)
            sample = samples.get((setting, key), {}).get(str(rec["label"]))
            if sample is None or len(sample.seeds) != cell.n:
                continue
            n_with += 1
            if ci:
                iv = stats.bootstrap_ci(
                    sample.values,
                    level,
                    n_resamples,
                    stats.cell_rng(seed, "cell", setting, *key, rec["label"]),
                )
                cell.ci = (iv.low, iv.high)
                rec["ci_low"], rec["ci_high"] = iv.low, iv.high
            column = (setting, key)  # as `xbench compare` keys it: the same seeded resamples
            groups.setdefault(column, {})[str(rec["label"])] = sample
            shown.setdefault(column, []).append((cell, rec))
        n_cmp = 0
        if significance:
            comparisons = stats.compare(groups, test=test, level=level, n_resamples=n_resamples, seed=seed)
            # Holm's family is this rendered table (a sweep table spans several noise settings)
            for c, adj in zip(comparisons, stats.holm([c.p for c in comparisons]), strict=True):
                c.p_holm = float(adj)
            n_cmp = sum(math.isfinite(c.p) for c in comparisons)
            by = {(c.table, c.key, c.b): c for c in comparisons}
            for column, entries in shown.items():
                for cell, rec in entries:
                    c = by.get((*column, str(rec["label"])))
                    if c is None or not math.isfinite(c.p_holm):
                        continue
                    rec["p_vs_best"], rec["p_holm_vs_best"] = c.p, c.p_holm
                    rec["tied_with_best"] = not c.significant(alpha)
                    cell.tied = not c.significant(alpha)
        if ci:
            t.caption = t.caption.replace("mean ± sample standard deviation", "mean and confidence interval")
        t.caption += " " + _caption(ci, significance, level, alpha, test, n_resamples, seed, n_cmp)
    if n_with == 0:
        notes.append("no table cell has stored per-query values, so no interval or test was computed")
    return notes


def _caption(
    ci: bool,
    significance: bool,
    level: float,
    alpha: float,
    test: str,
    n_resamples: int,
    seed: int,
    n_cmp: int,
) -> str:
    parts = []
    pct = f"{100 * level:g} %"
    if ci:
        parts.append(
            f"Intervals: {pct} percentile bootstrap confidence interval of the cell mean (over queries "
            f"for one seed; over seeds, with queries resampled within each seed, for several; "
            f"{n_resamples} resamples, seed {seed}); ± gives the half-width."
        )
    if significance:
        parts.append(
            f"Values marked ‡ are not significantly different from the bold best of their column "
            f"(paired {TEST_NAMES[test]} on the same queries and seeds, two-sided, Holm-adjusted "
            f"p ≥ {alpha:g} over the {n_cmp} comparison(s) of this table, each with the best "
            f"of its column)."
        )
    return " ".join(parts)
