"""Figures from a results folder, in the style of the CMMQ paper (Figures 1 and 4–8).

=============  =========================================================================
kind           figure
=============  =========================================================================
``pr``         Fig. 4c/5c: precision–recall by Hamming radius r = 0..K (hash lookup)
``topn``       Fig. 4a/5a: topN-precision against N
``recall``     Fig. 4b/5b: recall@k against k
``loss-hist``  Fig. 6: histogram of per-sample training losses, clean vs corrupted samples
``sensitivity``  Fig. 7: mAP against a hyperparameter (λ of CMMQ), both tasks
``epochs``     Fig. 8 and Fig. 1: mAP against epoch on the training set with noisy labels,
               the test set, and the training set with clean labels (mean ± std shade)
``noise-sweep``  mAP against the noise rate ρ per method (the data of MRL's Tables 1–2)
``selection``  precision/recall of clean samples among those a method selects, per epoch
               (Co-teaching's label precision; :mod:`xbench.reporting.plots_selection`)
=============  =========================================================================

Curves are averaged over seeds. One figure per (dataset, bits, noise setting[, task]) unless
the caller filters the frame first. Everything comes from the results frame of
:func:`xbench.reporting.results.load_runs`: curves, histories and arrays from its ``record`` column.
Every figure is written as PNG and PDF (atomically), with
matplotlib's object API on the Agg canvas (no pyplot state) and seaborn's ``whitegrid`` /
``paper`` style. Method colours come from seaborn's colour-blind-safe ``colorblind`` palette
and are fixed per method name (:func:`method_color`): registered methods carry their colour and
marker as class attributes (read through :mod:`xbench.reporting.display`),
any other name gets one from a SHA-256 of the name, so a plugin method keeps its colour in
every figure and every process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xbench.atomic import atomic_path
from xbench.errors import XbenchError
from xbench.reporting import display
from xbench.reporting.display import TASK_LABELS, dataset_display, label_order, method_display
from xbench.reporting.results import (
    METRIC_COLUMNS,
    METRIC_NAMES,
    TASKS,
    DamagedResult,
    ResultWarning,
    RunRecord,
    ok_rows,
)

KINDS = ("pr", "topn", "recall", "loss-hist", "sensitivity", "epochs", "noise-sweep", "selection")

#: seaborn's "colorblind" palette (Okabe–Ito based), fixed here so that it cannot drift with versions.
PALETTE = (
    "#0173b2",
    "#de8f05",
    "#029e73",
    "#d55e00",
    "#cc78bc",
    "#ca9161",
    "#fbafe4",
    "#949494",
    "#ece133",
    "#56b4e9",
)
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "h", "<", ">", "p")
TASK_STYLES = {"i2t": "-", "t2i": "--"}
VARIANT_STYLES = ("-", "--", "-.", ":")
CLEAN_COLOR, CORRUPTED_COLOR, HIST_ALPHA = "#56b4e9", "#d55e00", 0.65

CURVES = {  # kind: (metrics key, x field, y field, x label, y label, title)
    "pr": (
        "pr_radius",
        "recall",
        "precision",
        "recall",
        "precision",
        "Precision–recall (Hamming radius 0..K)",
    ),
    "topn": (
        "topn_precision",
        "n",
        "precision",
        "N (number of top-ranked items)",
        "precision@N",
        "topN-precision",
    ),
    "recall": ("recall_at_k", "k", "recall", "k (number of top-ranked items)", "recall@k", "recall@k"),
}
EPOCH_PANELS = (
    ("train_noisy", "training set, noisy labels"),
    ("test", "test set (queries vs database)"),
    ("train_clean", "training set, clean labels"),
)


def _digest(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def method_color(method: str) -> str:
    """The fixed colour of a method name (built-in: assigned; other: from a hash of the name)."""
    return display.method_color(method) or PALETTE[_digest(method) % len(PALETTE)]


def method_marker(method: str) -> str:
    return display.method_marker(method) or MARKERS[(_digest(method) // len(PALETTE)) % len(MARKERS)]


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The one style of every xbench figure (seaborn whitegrid/paper, embedded TrueType in PDF)."""
    import matplotlib as mpl
    import seaborn as sns

    with (
        sns.axes_style("whitegrid"),
        sns.plotting_context("paper", font_scale=1.1),
        mpl.rc_context(
            {
                "pdf.fonttype": 42,
                "ps.fonttype": 42,
                "legend.frameon": True,
                "legend.framealpha": 0.9,
                "axes.titlesize": "medium",
            }
        ),
    ):
        yield


def new_figure(ncols: int = 1, width: float = 4.6, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _slug(text: Any) -> str:
    text = str(text).replace("; ", "-").replace(":", "")
    return "".join(ch if ch.isalnum() or ch in ".-" else "-" for ch in text).strip("-")


def setting_slug(setting: str) -> str:
    """File-name form of a noise setting: ``symmetric:0.6`` → ``symmetric0.6``; protocol parts
    shortened (``per-modality`` → ``pm``, ``assumed ρ=0.4`` → ``assumed0.4``, others → a 6-hex hash)."""
    noise, _, protocol = setting.partition("; ")
    parts = [_slug(noise)]
    rest = []
    for part in protocol.split("; ") if protocol else []:
        if part == "per-modality":
            parts.append("pm")
        elif part.startswith("assumed ρ="):
            parts.append("assumed" + _slug(part[len("assumed ρ=") :]))
        else:
            rest.append(part)
    if rest:
        parts.append(hashlib.sha256("; ".join(rest).encode()).hexdigest()[:6])
    return "-".join(parts)


def save(
    fig, out_dir: Path, name: str, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Write ``name.<fmt>`` for each format atomically (temp file + rename); returns the paths."""
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        with atomic_path(path) as tmp:
            meta = {"CreationDate": None} if fmt == "pdf" else {}
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
        paths.append(path)
    return paths


def _figure_legend(fig, axes) -> None:
    """One legend for a multi-panel figure, below the panels (labels collected from every axes)."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=False):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(
            list(seen.values()),
            list(seen),
            loc="outside lower center",
            ncols=min(4, len(seen)),
            fontsize="small",
        )


def _runs(frame: pd.DataFrame, metric: str = "map") -> pd.DataFrame:
    """One row per successful run (seed) and task, deduplicated like the report."""
    ok, _ = ok_rows(frame, metric)
    return ok


def _title(dataset: str, bits: int, setting: str, extra: str = "", width: int = 60) -> str:
    import textwrap

    parts = [dataset_display(dataset), f"{int(bits)} bits", f"noise {setting}"]
    return textwrap.fill(" · ".join(parts + ([extra] if extra else [])), width=width)


def _variant_styles(frame: pd.DataFrame) -> dict[str, tuple[str, str, str]]:
    """label → (colour, linestyle, marker): colour and marker by method, linestyle by variant."""
    out = {}
    for method, g in frame.drop_duplicates("label").groupby("method", sort=True):
        labels = sorted(g["label"], key=lambda lab: (lab.count("["), lab))
        for i, lab in enumerate(labels):
            out[lab] = (method_color(method), VARIANT_STYLES[i % len(VARIANT_STYLES)], method_marker(method))
    return out


def _ordered_labels(frame: pd.DataFrame) -> list[str]:
    return label_order(frame)


def _no_data(kind: str, need: str) -> XbenchError:
    return XbenchError(f"--kind {kind}: nothing to plot — {need}")


# ---------------------------------------------------------------------------------------------- curves


def _mean_curve(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Average y over seeds on the first seed's x grid (other grids interpolated)."""
    x0 = curves[0][0]
    ys = []
    for x, y in curves:
        if len(x) == len(x0) and np.allclose(x, x0, equal_nan=True):
            ys.append(y)
        else:
            order = np.argsort(x)
            ys.append(np.interp(x0, x[order], y[order]))
    return x0, np.nanmean(np.vstack(ys), axis=0)


def plot_curves(
    frame: pd.DataFrame,
    kind: str,
    out_dir: str | Path,
    tasks: Sequence[str] = TASKS,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Figures 4/5 of the paper: one axes per (dataset, bits, noise, task) with every method."""
    key, xf, yf, xlabel, ylabel, what = CURVES[kind]
    runs = _runs(frame)
    runs = runs[runs["task"].isin(tasks)]
    written: list[Path] = []
    styles = _variant_styles(runs) if not runs.empty else {}
    for (dataset, bits, setting, task), g in runs.groupby(["dataset", "bits", "setting", "task"], sort=True):
        lines = []
        for label in _ordered_labels(g):
            curves = []
            for rec in g.loc[g["label"] == label, "record"]:
                m = rec.tasks[task].curve(key) if task in rec.tasks else {}
                if m.get(xf) is None or m.get(yf) is None:
                    continue
                x = np.asarray(m[xf], dtype=float)
                y = np.asarray(m[yf], dtype=float)
                if kind == "pr" and len(x) == len(y):
                    # a radius within which no pair lies has precision 0 by convention
                    # (xbench.evaluating.metrics.pr_by_radius) and recall 0: not a point of the curve
                    keep = ~((x == 0) & (y == 0))
                    x, y = x[keep], y[keep]
                if len(x) and len(x) == len(y):
                    curves.append((x, y))
            if curves:
                lines.append((label, len(curves), *_mean_curve(curves)))
        if not lines:
            continue
        with style():
            fig, (ax,) = new_figure()
            for label, n, x, y in lines:
                color, ls, marker = styles[label]
                ax.plot(
                    x,
                    y,
                    color=color,
                    linestyle=ls,
                    marker=marker,
                    markersize=4,
                    markevery=max(1, len(x) // 12),
                    label=label + (f" ({n} seeds)" if n > 1 else ""),
                )
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_title(f"{what}, {TASK_LABELS[task]}\n{_title(dataset, bits, setting)}")
            if kind == "pr":
                ax.set_xlim(-0.02, 1.02)
            elif (
                all(x.min() > 0 for *_, x, _ in lines)
                and max(x.max() for *_, x, _ in lines) / min(x.min() for *_, x, _ in lines) >= 50
            ):
                ax.set_xscale("log")  # cut-offs spread over decades (1, 2, 5, 10, …)
            ax.set_ylim(bottom=0)
            ax.legend(fontsize="small")
            written += save(
                fig,
                Path(out_dir),
                f"{kind}_{_slug(dataset)}_{int(bits)}b_{setting_slug(setting)}_{task}",
                formats,
                dpi,
            )
    if not written:
        raise _no_data(
            kind,
            f"no successful run stores the '{key}' curve (metrics.{{i2t,t2i}}.{key}) for the "
            "selected dataset/bits/task",
        )
    return written


# ------------------------------------------------------------------------------------------ loss histogram


def _arrays(rec: RunRecord) -> dict[str, np.ndarray]:
    """The run's arrays; a damaged ``.npz`` is skipped with a one-line warning naming it."""
    try:
        return rec.arrays()
    except DamagedResult as exc:
        warnings.warn(f"skipped damaged result {exc}", ResultWarning, stacklevel=2)
        return {}


def _loss_epochs(arrays: dict[str, np.ndarray]) -> list[int]:
    prefix = "sample_losses_epoch"
    return sorted(
        int(k[len(prefix) :]) for k in arrays if k.startswith(prefix) and k[len(prefix) :].isdigit()
    )


def plot_loss_hist(
    frame: pd.DataFrame,
    out_dir: str | Path,
    epoch: int | None = None,
    bins: int = 50,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Figure 6: frequency of per-sample losses of clean vs corrupted training samples.

    One figure per (method variant, dataset, bits, noise) from its lowest seed that stored
    per-sample losses (``xbench run --loss-epochs E``), at ``epoch`` (default: the last stored).
    """
    runs = _runs(frame).drop_duplicates("run_id").sort_values(["label", "dataset", "bits", "setting", "seed"])
    written: list[Path] = []
    found_losses = False
    for (label, dataset, bits, setting), g in runs.groupby(
        ["label", "dataset", "bits", "setting"], sort=True
    ):
        for rec in g["record"]:
            arrays = _arrays(rec)
            epochs = _loss_epochs(arrays)
            if not epochs:
                continue
            found_losses = True
            e = epoch if epoch is not None else epochs[-1]
            if e not in epochs:
                continue
            losses = np.asarray(arrays[f"sample_losses_epoch{e}"], dtype=float).ravel()
            corrupted = np.asarray(arrays.get("corrupted", np.zeros(len(losses), bool)), dtype=bool).ravel()
            if len(corrupted) != len(losses):
                continue
            finite = np.isfinite(losses)
            losses, corrupted = losses[finite], corrupted[finite]
            edges = np.histogram_bin_edges(losses, bins=bins)
            seed = rec.seed
            with style():
                fig, (ax,) = new_figure()
                ax.hist(
                    losses[~corrupted],
                    bins=edges,
                    color=CLEAN_COLOR,
                    alpha=HIST_ALPHA,
                    label=f"clean ({int((~corrupted).sum())})",
                )
                if corrupted.any():
                    ax.hist(
                        losses[corrupted],
                        bins=edges,
                        color=CORRUPTED_COLOR,
                        alpha=HIST_ALPHA,
                        label=f"corrupted ({int(corrupted.sum())})",
                    )
                ax.set_xlabel("per-sample training loss")
                ax.set_ylabel("number of training samples")
                ax.set_title(f"{label}, epoch {e}, seed {seed}\n{_title(dataset, bits, setting)}")
                ax.legend(fontsize="small")
                method = g["method"].iloc[0]
                variant = _slug(label.split(" ", 1)[1]) if " " in label else ""
                name = "_".join(
                    p
                    for p in (
                        "loss-hist",
                        _slug(method),
                        variant,
                        _slug(dataset),
                        f"{int(bits)}b",
                        setting_slug(setting),
                        f"e{e}",
                    )
                    if p
                )
                written += save(fig, Path(out_dir), name, formats, dpi)
            break
    if not written:
        raise _no_data(
            "loss-hist",
            "no run stores per-sample losses (run with --loss-epochs E; only methods "
            "with per-sample losses record them)"
            if not found_losses
            else f"no run stores per-sample losses at epoch {epoch}",
        )
    return written


# ---------------------------------------------------------------------------------------------- sensitivity


def _as_float(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def plot_sensitivity(
    frame: pd.DataFrame,
    out_dir: str | Path,
    param: str | None = None,
    metric: str = "map",
    tasks: Sequence[str] = TASKS,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Figure 7: mAP (mean ± std over seeds) against a hyperparameter's value, one line per task.

    The hyperparameter is ``param`` or every one that a method's runs override with at least
    two values; runs that keep the default join at the default value (their resolved
    hyperparameters). Other overrides split the lines.
    """
    runs = _runs(frame, metric)
    runs = runs[runs["task"].isin(tasks)]
    written: list[Path] = []
    for (method, dataset, bits, setting), g in runs.groupby(
        ["method", "dataset", "bits", "setting"], sort=True
    ):
        params = [param] if param else sorted({k for hp in g["hp"] for k in hp})
        for p in params:
            xs = [_as_float(res.get(p, hp.get(p))) for res, hp in zip(g["resolved"], g["hp"], strict=False)]
            sub = g.assign(
                x=xs,
                others=[
                    json.dumps({k: v for k, v in hp.items() if k != p}, sort_keys=True) for hp in g["hp"]
                ],
            )
            sub = sub[sub["x"].notna()]
            if sub["x"].nunique() < 2:
                continue
            with style():
                fig, (ax,) = new_figure()
                variants = sorted(sub["others"].unique(), key=lambda s: (len(s), s))
                for vi, others in enumerate(variants):
                    for task in tasks:
                        t = sub[(sub["others"] == others) & (sub["task"] == task)]
                        if t.empty:
                            continue
                        agg = t.groupby("x")["value"].agg(["mean", "std", "count"]).reset_index()
                        extra = (
                            ""
                            if others == "{}"
                            else " " + ",".join(f"{k}={v}" for k, v in json.loads(others).items())
                        )
                        ax.errorbar(
                            agg["x"],
                            agg["mean"],
                            yerr=agg["std"].fillna(0.0),
                            color=method_color(method),
                            linestyle=TASK_STYLES[task] if vi == 0 else VARIANT_STYLES[(vi + 2) % 4],
                            marker="o" if task == "i2t" else "s",
                            markersize=4,
                            capsize=2,
                            label=f"{TASK_LABELS[task]}{extra}",
                        )
                ax.set_xlabel(p)
                ax.set_ylabel(f"{METRIC_NAMES[metric]} ({_r_of(sub)})")
                ax.set_title(
                    f"{method_display(method)}: sensitivity to {p}\n{_title(dataset, bits, setting)}"
                )
                ax.legend(fontsize="small")
                written += save(
                    fig,
                    Path(out_dir),
                    f"sensitivity_{_slug(method)}_{_slug(p)}_{_slug(dataset)}_"
                    f"{int(bits)}b_{setting_slug(setting)}",
                    formats,
                    dpi,
                )
    if not written:
        raise _no_data(
            "sensitivity",
            (
                f"no method has runs with two or more values of '{param}'"
                if param
                else "no method has runs overriding a hyperparameter with two or more values "
                "(e.g. xbench run --set cmmq.PARAM=0,0.3,0.7)"
            ),
        )
    return written


def _r_of(rows: pd.DataFrame) -> str:
    rs = sorted({str(r) for r in rows["r"] if r is not None})
    return "R=" + ",".join(rs) if rs else "R=?"


# ---------------------------------------------------------------------------------------------- epochs


def plot_epochs(
    frame: pd.DataFrame,
    out_dir: str | Path,
    tasks: Sequence[str] = TASKS,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Figures 1 and 8: mAP against epoch (mean over seeds, ± std shaded), three panels: training
    set scored with its noisy labels, test set, training set scored with its clean labels.
    Colour = method, solid = I→T, dashed = T→I. Needs runs made with ``--eval-every E``."""
    runs = _runs(frame).drop_duplicates("run_id")
    written: list[Path] = []
    styles = _variant_styles(runs) if not runs.empty else {}
    for (dataset, bits, setting), g in runs.groupby(["dataset", "bits", "setting"], sort=True):
        panels: dict[str, list] = {name: [] for name, _ in EPOCH_PANELS}
        for label in _ordered_labels(g):
            recs = list(g.loc[g["label"] == label, "record"])
            for name, _ in EPOCH_PANELS:
                for task in tasks:
                    series = [s for s in (r.history_series(f"{name}_{task}") for r in recs) if s]
                    if not series:
                        continue
                    epochs = sorted(set().union(*series))
                    mat = np.array([[s.get(e, np.nan) for e in epochs] for s in series], dtype=float)
                    mean = np.nanmean(mat, axis=0)
                    std = np.nanstd(mat, axis=0, ddof=1) if len(series) > 1 else None
                    panels[name].append((label, task, np.array(epochs), mean, std, len(series)))
        used = [(name, title) for name, title in EPOCH_PANELS if panels[name]]
        if not used:
            continue
        from matplotlib.ticker import MaxNLocator

        with style():
            fig, axes = new_figure(len(used), width=4.2, height=3.9)
            for ax, (name, title) in zip(axes, used, strict=False):
                for label, task, x, mean, std, _n in panels[name]:
                    color, _, marker = styles[label]
                    ax.plot(
                        x,
                        mean,
                        color=color,
                        linestyle=TASK_STYLES[task],
                        marker=marker,
                        markersize=3,
                        markevery=max(1, len(x) // 10),
                        label=f"{label} {TASK_LABELS[task]}",
                    )
                    if std is not None:
                        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.15, linewidth=0)
                ax.set_xlabel("epoch")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_ylabel(f"mAP ({_r_of(g)})")
                ax.set_title(title)
            _figure_legend(fig, axes)
            fig.suptitle(_title(dataset, bits, setting))
            written += save(
                fig,
                Path(out_dir),
                f"epochs_{_slug(dataset)}_{int(bits)}b_{setting_slug(setting)}",
                formats,
                dpi,
            )
    if not written:
        raise _no_data("epochs", "no run has per-epoch mAP in its history (run with --eval-every E)")
    return written


# ---------------------------------------------------------------------------------------------- noise sweep


def plot_noise_sweep(
    frame: pd.DataFrame,
    out_dir: str | Path,
    metric: str = "map",
    tasks: Sequence[str] = TASKS,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """mAP (mean ± std over seeds) against the noise rate ρ, one line per method, one panel per task.

    One figure per (dataset, bits, noise type, protocol); clean runs of the same protocol join
    at ρ = 0. Needs at least two rates.
    """
    runs = _runs(frame, metric)
    runs = runs[runs["task"].isin(tasks)]
    written: list[Path] = []
    for (dataset, bits, kind, protocol), _g in runs[runs["noise_type"] != "none"].groupby(
        ["dataset", "bits", "noise_type", "protocol"], sort=True
    ):
        sub = runs[
            (runs["dataset"] == dataset)
            & (runs["bits"] == bits)
            & (runs["protocol"] == protocol)
            & runs["noise_type"].isin([kind, "none"])
        ]
        if sub["noise_rate"].nunique() < 2:
            continue
        styles = _variant_styles(sub)
        with style():
            fig, axes = new_figure(len(tasks), width=4.2, height=3.9)
            for ax, task in zip(axes, tasks, strict=False):
                t = sub[sub["task"] == task]
                for label in _ordered_labels(t):
                    agg = (
                        t[t["label"] == label]
                        .groupby("noise_rate")["value"]
                        .agg(["mean", "std"])
                        .reset_index()
                    )
                    color, ls, marker = styles[label]
                    ax.errorbar(
                        agg["noise_rate"],
                        agg["mean"],
                        yerr=agg["std"].fillna(0.0),
                        color=color,
                        linestyle=ls,
                        marker=marker,
                        markersize=4,
                        capsize=2,
                        label=label,
                    )
                ax.set_xlabel("noise rate ρ")
                ax.set_ylabel(f"{METRIC_NAMES[metric]} ({_r_of(t)})")
                ax.set_title(TASK_LABELS[task])
            _figure_legend(fig, axes)
            setting = kind + (f"; {protocol}" if protocol else "")
            fig.suptitle(f"{dataset_display(dataset)} · {int(bits)} bits · {setting} noise")
            written += save(
                fig,
                Path(out_dir),
                f"noise-sweep_{_slug(dataset)}_{int(bits)}b_{setting_slug(setting)}",
                formats,
                dpi,
            )
    if not written:
        raise _no_data(
            "noise-sweep",
            "no dataset/bits has runs at two or more noise rates of one noise type "
            "(clean runs count as ρ = 0)",
        )
    return written


def plot(
    frame: pd.DataFrame,
    kind: str,
    out_dir: str | Path,
    *,
    tasks: Sequence[str] = TASKS,
    param: str | None = None,
    epoch: int | None = None,
    metric: str = "map",
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Render every figure of ``kind`` that the (filtered, annotated) results frame supports."""
    if metric not in METRIC_COLUMNS:
        raise ValueError(f"unknown metric '{metric}'")
    if kind in CURVES:
        return plot_curves(frame, kind, out_dir, tasks, formats, dpi)
    if kind == "loss-hist":
        return plot_loss_hist(frame, out_dir, epoch, formats=formats, dpi=dpi)
    if kind == "sensitivity":
        return plot_sensitivity(frame, out_dir, param, metric, tasks, formats, dpi)
    if kind == "epochs":
        return plot_epochs(frame, out_dir, tasks, formats, dpi)
    if kind == "noise-sweep":
        return plot_noise_sweep(frame, out_dir, metric, tasks, formats, dpi)
    if kind == "selection":
        from xbench.reporting.plots_selection import plot_selection

        return plot_selection(frame, out_dir, formats, dpi)
    raise ValueError(f"unknown kind '{kind}'; expected one of {', '.join(KINDS)}")
