"""Result tables: the CMMQ paper's Table 2, MRL-style noise-rate sweeps, published numbers beside ours.

Table building only: every function here is a pure function of the results DataFrame of
:func:`xbench.reporting.results.load_runs` (one row per run × task) and returns :class:`Table` objects,
which :mod:`xbench.reporting.render` renders as Markdown, LaTeX, HTML or CSV.

* :func:`table2` — CMMQ paper (Yang et al., CVPR 2022, "Mutual Quantization for Cross-Modal Search
  with Noisy Labels"), Table 2: "mAP results of five methods on three cross-modal datasets, with best
  results shown in boldface": rows Task (I→T, T→I) × Method, columns Dataset × bits, one table per
  noise setting. This is ``xbench report``'s default.
* :func:`table2_by_noise` — the same layout with the noise settings side by side (columns
  Noise × Dataset × bits) and the method ranking under each setting, so that a reader sees
  whether the ranking depends on the noise model (e.g. ``symmetric`` against ``symmetric-sample``).
* :func:`sweep_tables` — MRL paper, Tables 1–2: rows Method, columns Dataset × Task × noise
  rate ρ (one table per noise type and code length).
* :func:`compare_tables` — ours beside the published numbers kept in ``results/reference/``
  (see :mod:`xbench.reporting.reference`) with the difference ours − paper.

Conventions (documented in every caption): a cell is the mean over seeds; with several seeds
also the sample standard deviation (ddof = 1) and, where the number of seeds differs between
cells, that number; best (highest rounded mean) per column within each task block in bold when
the column has at least two values; a missing cell is "—"; failed runs are listed separately.
Each caption states the metric's exact definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xbench.errors import XbenchError
from xbench.evaluating import health
from xbench.reporting import display
from xbench.reporting.display import TASK_LABELS, dataset_display, dataset_order, label_order, ordered
from xbench.reporting.results import (
    METRIC_COLUMNS,
    METRIC_NAMES,
    TASKS,
    Stat,
    noise_rate,
    ok_rows,
    summarise,
)

__all__ = [
    "METRIC_COLUMNS",
    "METRIC_DEFINITIONS",
    "METRIC_NAMES",
    "MISSING",
    "Cell",
    "Row",
    "Table",
    "cell_stats",
    "compare_tables",
    "describe_noise",
    "sweep_tables",
    "table2",
    "table2_by_noise",
]  # fmt: skip

METRIC_DEFINITIONS = {
    "map": (
        "mAP@R: the database is ranked by Hamming distance d = (K − q·b)/2 to the query code, ties broken "
        "by ascending database index; AP = mean precision at the rank of each relevant item inside the "
        "top R (relevant: shares at least one label with the query); a query with no relevant item in "
        "the top R scores 0; mAP = mean AP over all queries"
    ),
    "map_tie": (
        "tie-averaged mAP@R: as mAP@R, but each AP is the expected AP over uniformly random orders "
        "inside groups of equal Hamming distance (McSherry & Najork, ECIR 2008), so it does not depend "
        "on the tie-breaking rule"
    ),
}
MISSING = "—"


def cell_stats(frame: pd.DataFrame, metric: str = "map") -> tuple[dict[tuple, Stat], list[str]]:
    """``{(setting, label, dataset, r, bits, task): Stat}`` over the seeds of each cell."""
    ok, notes = ok_rows(frame, metric)
    out: dict[tuple, Stat] = {}
    for key, g in ok.groupby(["setting", "label", "dataset", "r", "bits", "task"], sort=False):
        g = g.sort_values("seed")
        stat = summarise(g["value"], g["seed"])
        if "unhealthy" in g and g["unhealthy"].any():
            stat = Stat(stat.mean, stat.std, stat.n, stat.seeds, int(g["unhealthy"].sum()))
        out[(key[0], key[1], key[2], key[3], int(key[4]), key[5])] = stat
    if any(s.unhealthy for s in out.values()):
        notes = [*notes, health.footnote()]
        if "unhealthy" in ok and "method" in ok:  # methods whose published form is known to collapse
            for name in dict.fromkeys(ok.loc[ok["unhealthy"].astype(bool), "method"]):
                if display.method_health_note(name):
                    notes.append(
                        f"{health.MARK} {display.method_name(name)}: {display.method_health_note(name)}"
                    )
    return out, notes


# ----------------------------------------------------------------------------------------------
# The table model shared by every output format
# ----------------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One table cell: mean (± std over ``n`` seeds); ``signed`` for differences."""

    mean: float
    std: float | None = None
    n: int = 1
    bold: bool = False
    signed: bool = False
    mark: str = ""  # e.g. xbench.evaluating.health.MARK for a cell with unhealthy codes


Row = tuple[list[str], list["Cell | None"]]


@dataclass
class Table:
    """A rendered-format-independent table.

    ``header`` holds the upper header rows as (text, span) pairs over the leaf columns;
    ``blocks`` are groups of rows separated by a rule (a task block in Table 2); ``records``
    are the tidy rows written by ``--format csv``.
    """

    key: str
    title: str
    caption: str
    stub: list[str]
    header: list[list[tuple[str, int]]]
    leaves: list[str]
    blocks: list[list[Row]]
    show_n: bool = False
    notes: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)


def _setting_order(settings: Iterable[str]) -> list[str]:
    def key(s: str):
        noise, _, protocol = s.partition("; ")
        kind, _, rate = noise.partition(":")
        return (kind != "none", kind, noise_rate(noise), rate, protocol)

    return sorted(dict.fromkeys(settings), key=key)


def _mark_best(cells: list[list[Cell | None]], digits: int) -> None:
    """Bold the highest rounded mean of each column (several if tied) when it has ≥ 2 values."""
    if not cells:
        return
    for j in range(len(cells[0])):
        col = [row[j] for row in cells if row[j] is not None]
        if len(col) < 2:
            continue
        best = max(round(c.mean, digits) for c in col)
        for c in col:
            c.bold = round(c.mean, digits) == best


def describe_noise(setting: str, with_rate: bool = True) -> str:
    """Caption text of a noise setting, e.g. 'symmetric label noise …, ρ = 0.6, drawn independently …'."""
    noise, _, protocol = setting.partition("; ")
    kind, _, rate = noise.partition(":")
    if kind == "none":
        text = "clean training labels (no injected noise)"
    else:
        text = f"{kind} label noise on the training labels" + (
            f", ρ = {float(rate or 0):g}" if with_rate else ""
        )
    for part in protocol.split("; ") if protocol else []:
        if part == "per-modality":
            text += ", drawn independently for the image and the text modality"
        elif part.startswith("assumed ρ="):
            text += f", small-loss methods given {part.replace('assumed ', '')} instead of the true rate"
        elif part.startswith("split="):
            text += f", split file {part[len('split=') :]}"
        elif part.endswith(" retrieval"):  # real-valued variants of xbench.running.selection
            kind = part[: -len(" retrieval")]
            text += (
                f"; {part}: the real-valued outputs ranked by {kind} "
                f"{'similarity' if kind == 'cosine' else 'distance'} instead of Hamming distance "
                "(ties: equal up to float64 rounding; the definitions below apply with this ranking)"
            )
        elif part == "best-validation epoch":
            text += "; test results of the epoch with the best validation mAP (xbench.running.selection)"
        else:
            text += f", dataset {part}"
    return text


def _r_text(rs: Iterable[str | None]) -> str:
    rs = sorted({r for r in rs if r is not None})
    if len(rs) != 1:
        return "R given per dataset in the header"
    return "R = all, i.e. the whole database" if rs[0] == "all" else f"R = {rs[0]}"


def _seed_text(cells: Iterable[Cell | None]) -> tuple[str, bool]:
    ns = sorted({c.n for c in cells if c is not None})
    if not ns:
        return "no results", False
    if len(ns) == 1:
        n = ns[0]
        return ("one seed per cell" if n == 1 else f"mean ± sample standard deviation over {n} seeds"), False
    return (
        f"mean ± sample standard deviation over the seeds of each cell ({ns[0]}–{ns[-1]} seeds; "
        "the number of seeds is given in parentheses)"
    ), True


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "-", text).strip("-").lower() or "table"


def _column_groups(sub: pd.DataFrame, ok_sub: pd.DataFrame) -> list[tuple[str, str | None, list[int]]]:
    """(dataset, R, bits) column groups of one table: R from successful runs; failed-only bits go to
    the dataset's first R group."""
    groups = []
    for d in ordered(sub["dataset"], dataset_order()):
        rs = ordered([r for r in ok_sub.loc[ok_sub["dataset"] == d, "r"] if r is not None], ())
        all_bits = sorted({int(b) for b in sub.loc[sub["dataset"] == d, "bits"]})
        if not rs:
            groups.append((d, None, all_bits))
            continue
        for i, r in enumerate(rs):
            bits = {int(b) for b in ok_sub.loc[(ok_sub["dataset"] == d) & (ok_sub["r"] == r), "bits"]}
            if i == 0:
                ok_bits = {int(b) for b in ok_sub.loc[ok_sub["dataset"] == d, "bits"]}
                bits |= set(all_bits) - ok_bits
            groups.append((d, r, sorted(bits)))
    return groups


def _group_header(
    groups: list[tuple[str, str | None, list[int]]], per_leaf: int = 1
) -> list[tuple[str, int]]:
    show_r = len({g[1] for g in groups if g[1] is not None}) > 1
    return [
        (dataset_display(d) + (f" (R={r})" if show_r and r is not None else ""), len(bits) * per_leaf)
        for d, r, bits in groups
    ]


def _cell(stat: Stat | None) -> Cell | None:
    return (
        None
        if stat is None
        else Cell(stat.mean, stat.std, stat.n, mark=health.MARK if stat.unhealthy else "")
    )


def _record(
    kind: str,
    setting: str,
    task: str,
    label: str,
    method: str,
    hparams: str,
    dataset: str,
    bits: int,
    r: str | None,
    metric: str,
    stat: Stat | None,
    best: bool = False,
) -> dict[str, Any]:
    return {
        "table": kind,
        "setting": setting,
        "task": task,
        "method": method,
        "label": label,
        "hparams": hparams,
        "dataset": dataset,
        "bits": bits,
        "R": r,
        "metric": metric,
        "mean": None if stat is None else stat.mean,
        "std": None if stat is None else stat.std,
        "n_seeds": 0 if stat is None else stat.n,
        "seeds": "" if stat is None else " ".join(map(str, stat.seeds)),
        "best": bool(best),
        "status": "ok" if stat is not None else "missing",
    }


# ----------------------------------------------------------------------------------------------
# Table 2 (CMMQ paper layout)
# ----------------------------------------------------------------------------------------------


def table2(frame: pd.DataFrame, metric: str = "map", digits: int = 3) -> list[Table]:
    """One Table-2 per noise setting: rows Task × Method, columns Dataset × bits."""
    stats, notes = cell_stats(frame, metric)
    ok, _ = ok_rows(frame, metric)
    tables = []
    for setting in _setting_order(frame["setting"]):
        sub = frame[frame["setting"] == setting]
        ok_sub = ok[ok["setting"] == setting]
        groups = _column_groups(sub, ok_sub)
        columns = [(d, r, b) for d, r, bits in groups for b in bits]
        labels = label_order(sub)
        meta = sub.drop_duplicates("label").set_index("label")
        blocks: list[list[Row]] = []
        records = []
        all_cells: list[Cell | None] = []
        for task in TASKS:
            grid = [
                [_cell(stats.get((setting, lab, d, r, b, task))) for d, r, b in columns] for lab in labels
            ]
            _mark_best(grid, digits)
            rows = []
            for i, (lab, cells) in enumerate(zip(labels, grid, strict=False)):
                rows.append(([TASK_LABELS[task] if i == 0 else "", lab], cells))
                for (d, r, b), c in zip(columns, cells, strict=False):
                    records.append(
                        _record(
                            "table2",
                            setting,
                            task,
                            lab,
                            meta.loc[lab, "method"],
                            meta.loc[lab, "hparams"],
                            d,
                            b,
                            r,
                            metric,
                            stats.get((setting, lab, d, r, b, task)),
                            c is not None and c.bold,
                        )
                    )
            blocks.append(rows)
            all_cells.extend(c for row in grid for c in row)
        seed_text, show_n = _seed_text(all_cells)
        r_text = _r_text(r for _, r, _ in groups)
        n_missing = sum(c is None for c in all_cells)
        caption = (
            f"{METRIC_NAMES[metric]} ({r_text}) of {len(labels)} method(s) on "
            f"{', '.join(dataset_display(d) for d in dict.fromkeys(g[0] for g in groups))}; "
            f"I→T: image queries against the text codes of the database, T→I the reverse. "
            f"Training labels: {describe_noise(setting)}; evaluation uses the clean labels. "
            f"Cells: {seed_text}. Best value per column and task in bold; {MISSING} = no result"
            f"{f' ({n_missing} cell(s))' if n_missing else ''}. {METRIC_DEFINITIONS[metric]}."
        )
        tables.append(
            Table(
                key=f"table2-{_slug(setting)}",
                title=f"{METRIC_NAMES[metric]}, {setting}",
                caption=caption,
                stub=["Task", "Method"],
                header=[_group_header(groups)],
                leaves=[f"{b} bits" for _, _, b in columns],
                blocks=blocks,
                show_n=show_n,
                notes=list(notes),
                records=records,
            )
        )
    return tables


def _ranking(grid: list[list[Cell | None]], labels: list[str], keep: list[int]) -> list[tuple[str, float]]:
    """Rows with a value in every column of ``keep``, by their mean over those columns (best first)."""
    means = []
    for lab, cells in zip(labels, grid, strict=False):
        vals = [cells[j] for j in keep]
        if keep and all(c is not None for c in vals):
            means.append((lab, sum(c.mean for c in vals) / len(vals)))
    return sorted(means, key=lambda x: -x[1])


def table2_by_noise(frame: pd.DataFrame, metric: str = "map", digits: int = 3) -> list[Table]:
    """Table 2 with the noise settings side by side: rows Task × Method, columns Noise × Dataset × bits.

    One table holds every noise setting of ``frame`` (filter it first, e.g. ``--noise
    symmetric:0.6,symmetric-sample:0.6``). Best per column in bold. The notes give, per task, the
    ranking of the methods under each setting by their mean over the (dataset, bits) cells that
    every setting has for every ranked method, and say whether the rankings agree.
    """
    stats, notes = cell_stats(frame, metric)
    ok, _ = ok_rows(frame, metric)
    settings = _setting_order(frame["setting"])
    if len(settings) < 2:
        raise XbenchError(
            "--layout table2-noise: the results hold one noise setting "
            f"({', '.join(settings)}); side by side needs two or more (see --noise)"
        )
    labels = label_order(frame)
    meta = frame.drop_duplicates("label").set_index("label")
    per_setting = {s: _column_groups(frame[frame["setting"] == s], ok[ok["setting"] == s]) for s in settings}
    columns = [(s, d, r, b) for s in settings for d, r, bits in per_setting[s] for b in bits]
    blocks: list[list[Row]] = []
    records = []
    all_cells: list[Cell | None] = []
    rank_notes = []
    for task in TASKS:
        grid = [[_cell(stats.get((s, lab, d, r, b, task))) for s, d, r, b in columns] for lab in labels]
        _mark_best(grid, digits)
        rows = []
        for i, (lab, cells) in enumerate(zip(labels, grid, strict=False)):
            rows.append(([TASK_LABELS[task] if i == 0 else "", lab], cells))
            for (s, d, r, b), c in zip(columns, cells, strict=False):
                method, hparams = meta.loc[lab, "method"], meta.loc[lab, "hparams"]
                stat, best = stats.get((s, lab, d, r, b, task)), c is not None and c.bold
                rec = _record("table2-noise", s, task, lab, method, hparams, d, b, r, metric, stat, best)
                records.append(rec)
        blocks.append(rows)
        all_cells.extend(c for row in grid for c in row)
        # rank on the (dataset, R, bits) cells present under every setting for every method ranked
        shared = set.intersection(*({(d, r, b) for s2, d, r, b in columns if s2 == s} for s in settings))
        ranked_labels = [
            lab
            for li, lab in enumerate(labels)
            if all(grid[li][j] is not None for j, (s, d, r, b) in enumerate(columns) if (d, r, b) in shared)
        ]
        rankings = {}
        for s in settings:
            keep = [j for j, (s2, d, r, b) in enumerate(columns) if s2 == s and (d, r, b) in shared]
            sub = [grid[labels.index(lab)] for lab in ranked_labels]
            rankings[s] = _ranking(sub, ranked_labels, keep)
        if len(ranked_labels) >= 2 and shared:
            orders = {s: tuple(lab for lab, _ in r) for s, r in rankings.items()}
            same = len(set(orders.values())) == 1
            text = "; ".join(
                f"{s}: " + " > ".join(f"{lab} ({m:.{digits}f})" for lab, m in rankings[s]) for s in settings
            )
            rank_notes.append(
                f"Ranking {TASK_LABELS[task]} (mean over the {len(shared)} dataset × bits column(s) that "
                f"every setting has): {text}. "
                + ("The ranking is the same under every setting." if same else "The ranking DIFFERS.")
            )
        else:
            rank_notes.append(
                f"Ranking {TASK_LABELS[task]}: not given (fewer than two methods have a value in every "
                "shared column)"
            )
    seed_text, show_n = _seed_text(all_cells)
    groups = [g for s in settings for g in per_setting[s]]
    n_missing = sum(c is None for c in all_cells)
    caption = (
        f"{METRIC_NAMES[metric]} ({_r_text(r for _, r, _ in groups)}) of {len(labels)} method(s) under "
        f"{len(settings)} noise settings side by side: "
        + "; ".join(f"{s}: {describe_noise(s)}" for s in settings)
        + ". I→T: image queries against the text codes of the database, T→I the reverse; evaluation uses "
        f"the clean labels. Cells: {seed_text}. Best value per column and task in bold; {MISSING} = no "
        f"result{f' ({n_missing} cell(s))' if n_missing else ''}. {METRIC_DEFINITIONS[metric]}."
    )
    top = [(s, sum(len(bits) for _, _, bits in per_setting[s])) for s in settings]
    mid = [h for s in settings for h in _group_header(per_setting[s])]
    return [
        Table(
            key="table2-noise-" + _slug("-".join(settings)),
            title=f"{METRIC_NAMES[metric]} under {len(settings)} noise settings",
            caption=caption,
            stub=["Task", "Method"],
            header=[top, mid],
            leaves=[f"{b} bits" for *_, b in columns],
            blocks=blocks,
            show_n=show_n,
            notes=list(notes) + rank_notes,
            records=records,
        )
    ]


# ----------------------------------------------------------------------------------------------
# Noise-rate sweep (MRL paper layout)
# ----------------------------------------------------------------------------------------------


def sweep_tables(frame: pd.DataFrame, metric: str = "map", digits: int = 3) -> list[Table]:
    """One table per (noise type, protocol, bits): rows Method, columns Dataset × Task × ρ.

    Clean runs (noise ``none``) of the same protocol and code length join as ρ = 0.
    """
    stats, notes = cell_stats(frame, metric)
    ok, _ = ok_rows(frame, metric)
    tables = []
    noisy = frame[frame["noise_type"] != "none"]
    if noisy.empty:
        raise XbenchError("--layout sweep: the results hold no noisy runs (every run has noise 'none')")
    for (kind, protocol, bits), _ in noisy.groupby(["noise_type", "protocol", "bits"], sort=True):
        sel = (
            ((frame["noise_type"] == kind) | (frame["noise_type"] == "none"))
            & (frame["protocol"] == protocol)
            & (frame["bits"] == bits)
        )
        sub = frame[sel]
        ok_sub = ok[ok["run_id"].isin(sub["run_id"])]
        rates = sorted({float(r) for r in sub["noise_rate"]})
        has_kind0 = bool(((sub["noise_type"] == kind) & (sub["noise_rate"] == 0)).any())
        settings = {
            rate: (f"{kind}:{rate:g}" if rate > 0 or has_kind0 else "none")
            + (f"; {protocol}" if protocol else "")
            for rate in rates
        }
        groups = []
        for d, r, _ in _column_groups(sub, ok_sub):
            rows_d = sub[sub["dataset"] == d]
            if r is not None:
                rows_d = rows_d[
                    rows_d["run_id"].isin(ok_sub.loc[ok_sub["r"] == r, "run_id"]) | (rows_d["status"] != "ok")
                ]
            groups.append((d, r, sorted({float(x) for x in rows_d["noise_rate"]})))
        columns = [(d, r, task, rate) for d, r, rates_d in groups for task in TASKS for rate in rates_d]
        labels = label_order(sub)
        meta = sub.drop_duplicates("label").set_index("label")
        grid = [
            [_cell(stats.get((settings[rate], lab, d, r, int(bits), task))) for d, r, task, rate in columns]
            for lab in labels
        ]
        _mark_best(grid, digits)
        records = []
        for lab, cells in zip(labels, grid, strict=False):
            for (d, r, task, rate), c in zip(columns, cells, strict=False):
                rec = _record(
                    "sweep",
                    settings[rate],
                    task,
                    lab,
                    meta.loc[lab, "method"],
                    meta.loc[lab, "hparams"],
                    d,
                    int(bits),
                    r,
                    metric,
                    stats.get((settings[rate], lab, d, r, int(bits), task)),
                    c is not None and c.bold,
                )
                rec["noise_rate"] = rate
                records.append(rec)
        all_cells = [c for row in grid for c in row]
        seed_text, show_n = _seed_text(all_cells)
        show_r = len({r for _, r, _ in groups if r is not None}) > 1
        top = [
            (dataset_display(d) + (f" (R={r})" if show_r and r is not None else ""), 2 * len(rates_d))
            for d, r, rates_d in groups
        ]
        mid = [(TASK_LABELS[t], len(rates_d)) for _, _, rates_d in groups for t in TASKS]
        desc = describe_noise(f"{kind}:0" + (f"; {protocol}" if protocol else ""), with_rate=False)
        n_missing = sum(c is None for c in all_cells)
        caption = (
            f"{METRIC_NAMES[metric]} ({_r_text(r for _, r, _ in groups)}) at {int(bits)} bits under "
            f"{desc}, for noise rates ρ = {', '.join(f'{x:g}' for x in rates)} (columns)"
            f"{'; ρ = 0 are runs on clean labels' if 0.0 in rates else ''}. I→T: image queries against "
            f"the text codes of the database, T→I the reverse; evaluation uses the clean labels. Cells: "
            f"{seed_text}. Best value per column in bold; {MISSING} = no result"
            f"{f' ({n_missing} cell(s))' if n_missing else ''}. {METRIC_DEFINITIONS[metric]}."
        )
        name = f"{kind}{f'; {protocol}' if protocol else ''}, {int(bits)} bits"
        tables.append(
            Table(
                key=f"sweep-{_slug(name)}",
                title=f"{METRIC_NAMES[metric]} vs noise rate, {name}",
                caption=caption,
                stub=["Method"],
                header=[top, mid],
                leaves=[f"ρ={rate:g}" for *_, rate in columns],
                blocks=[[([lab], cells) for lab, cells in zip(labels, grid, strict=False)]],
                show_n=show_n,
                notes=list(notes),
                records=records,
            )
        )
    return tables


# ----------------------------------------------------------------------------------------------
# Published numbers beside ours
# ----------------------------------------------------------------------------------------------


def _find_stat(
    stats: dict[tuple, Stat], setting: str, label: str, dataset: str, bits: int, task: str, ours: pd.DataFrame
) -> tuple[str | None, Stat | None]:
    """Our (R, Stat) for one cell (the first R with a result when a dataset was run with several)."""
    for r in sorted({r for r in ours.loc[ours["bits"] == bits, "r"] if r is not None}):
        stat = stats.get((setting, label, dataset, r, bits, task))
        if stat is not None:
            return r, stat
    return None, None


def compare_tables(
    frame: pd.DataFrame, reference: pd.DataFrame, metric: str = "map"
) -> tuple[list[Table], list[str]]:
    """Ours beside the published numbers where dataset, noise and method match.

    ``reference`` comes from :func:`xbench.reporting.reference.load_reference`. A published value without
    a code length (MRL's real-valued features) is set beside each of our code lengths. Our rows
    match a published method by the base method name (with or without overrides). Returns the
    tables (one per noise setting with matches) and notes for settings without a match.
    """
    from xbench.reporting.reference import matching

    stats, _ = cell_stats(frame, metric)
    ok, _ = ok_rows(frame, metric)
    tables: list[Table] = []
    notes: list[str] = []
    for setting in _setting_order(ok["setting"]):
        sub = ok[ok["setting"] == setting]
        ref = reference[reference["dataset"].isin(set(sub["dataset"]))]
        if ref.empty:
            continue
        ref_here, why = matching(ref, sub.iloc[0])
        if ref_here.empty:
            notes.append(
                f"published numbers exist for {', '.join(sorted(set(ref['dataset'])))}; none matches "
                f"'{setting}' ({why})"
            )
            continue
        blocks: list[list[Row]] = []
        records = []
        r_notes: set[str] = set()
        used_notes: set[tuple[str, str]] = set()
        labels = label_order(sub)
        meta = sub.drop_duplicates("label").set_index("label")
        for task in TASKS:
            rows: list[Row] = []
            for lab in labels:
                method = meta.loc[lab, "method"]
                mine = sub[(sub["label"] == lab) & (sub["task"] == task)]
                for d in ordered(mine["dataset"], dataset_order()):
                    pub = ref_here[
                        (ref_here["method"] == method)
                        & (ref_here["dataset"] == d)
                        & (ref_here["task"] == task)
                    ]
                    ours_d = mine[mine["dataset"] == d]
                    for _, p in pub.sort_values("bits", na_position="first").iterrows():
                        used_notes.add((p["tag"], p["note"]))
                        bits_list = (
                            [int(p["bits"])]
                            if pd.notna(p["bits"])
                            else sorted({int(b) for b in ours_d["bits"]})
                        )
                        for b in bits_list:
                            r, stat = _find_stat(stats, setting, lab, d, b, task, ours_d)
                            if stat is not None and str(p["topk"]) != r:
                                r_notes.add(f"{dataset_display(d)}: ours R={r}, published R={p['topk']}")
                            diff = None if stat is None else stat.mean - float(p["value"])
                            rows.append(
                                (
                                    [
                                        TASK_LABELS[task] if not rows else "",
                                        lab,
                                        dataset_display(d),
                                        str(b),
                                        p["tag"],
                                    ],
                                    [
                                        _cell(stat),
                                        Cell(float(p["value"]), None, 1),
                                        None if diff is None else Cell(diff, None, 1, signed=True),
                                    ],
                                )
                            )
                            rec = _record(
                                "compare",
                                setting,
                                task,
                                lab,
                                method,
                                meta.loc[lab, "hparams"],
                                d,
                                b,
                                r,
                                metric,
                                stat,
                            )
                            rec.update(
                                {
                                    "paper": float(p["value"]),
                                    "paper_R": p["topk"],
                                    "diff": diff,
                                    "source": p["source"],
                                    "paper_method": p["method_paper"],
                                }
                            )
                            records.append(rec)
            if rows:
                blocks.append(rows)
        if not blocks:
            notes.append(
                f"no method of '{setting}' has published numbers on "
                f"{', '.join(sorted(set(ref_here['dataset'])))}"
            )
            continue
        sources = sorted(set(ref_here["tag"] + ": " + ref_here["source"]))
        tnotes = [f"Published R differs — {n}" for n in sorted(r_notes)]
        tnotes += [f"{tag} notes: {n}" for tag, n in sorted(used_notes) if n]
        if metric != "map":
            tnotes.append("The published numbers are plain mAP; ours are " + METRIC_NAMES[metric] + ".")
        caption = (
            f"Ours ({METRIC_NAMES[metric]}, mean over seeds) beside the published numbers, and the "
            f"difference Δ = ours − published. Training labels: {describe_noise(setting)}. Sources: "
            f"{'; '.join(sources)}. A published value without a code length (real-valued features) is "
            f"shown beside each of our code lengths. {MISSING} = no result."
        )
        tables.append(
            Table(
                key=f"compare-{_slug(setting)}",
                title=f"Ours vs published, {setting}",
                caption=caption,
                stub=["Task", "Method", "Dataset", "Bits", "Source"],
                header=[],
                leaves=["Ours", "Published", "Δ"],
                blocks=blocks,
                show_n=False,
                notes=tnotes,
                records=records,
            )
        )
    return tables, notes
