"""Plot kind ``selection``: how clean the samples a method selects are, epoch by epoch.

Co-teaching (Han et al., NeurIPS 2018, Fig. 3) plots "label precision" — the share of clean
samples among those a method trains on — over epochs. One figure per (dataset, bits, noise
setting) with two panels: precision (left) and recall (right) of the uncorrupted samples
among those kept (solid) and of the overlapping ones, noisy ∩ clean ≠ ∅ (dashed); mean over
seeds. The dotted horizontal line in the precision panel is the share of uncorrupted samples in
the whole training set (what a random selection scores). The data are the ``selected_*``
fields the runner writes into each epoch's history (:mod:`xbench.evaluating.selection_quality`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from xbench.reporting.plots import (
    _no_data,
    _ordered_labels,
    _runs,
    _slug,
    _title,
    _variant_styles,
    new_figure,
    save,
    setting_slug,
    style,
)

PANELS = (
    ("precision", "precision: share of the kept samples"),
    ("recall", "recall: share of such samples kept"),
)
KINDS = (("clean", "-", "uncorrupted"), ("overlap", "--", "noisy ∩ clean ≠ ∅"))


def _series(recs: list, field: str) -> tuple[np.ndarray, np.ndarray] | None:
    series = [s for s in (r.history_series(field) for r in recs) if s]
    if not series:
        return None
    epochs = sorted(set().union(*series))
    mat = np.array([[s.get(e, np.nan) for e in epochs] for s in series], dtype=float)
    return np.array(epochs), np.nanmean(mat, axis=0)


def plot_selection(
    frame: pd.DataFrame,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Selection precision and recall against epoch for every method that selects samples."""
    runs = _runs(frame).drop_duplicates("run_id")
    written: list[Path] = []
    styles = _variant_styles(runs) if not runs.empty else {}
    for (dataset, bits, setting), g in runs.groupby(["dataset", "bits", "setting"], sort=True):
        lines = []  # (panel, label, kind, x, y)
        base = []
        for label in _ordered_labels(g):
            paths = list(g.loc[g["label"] == label, "record"])  # the runs' records (xbench.reporting.results)
            for panel, _ in PANELS:
                for kind, _, _ in KINDS:
                    got = _series(paths, f"selected_{kind}_{panel}")
                    if got is not None:
                        lines.append((panel, label, kind, *got))
            rates = [(r.extra.get("selection_base") or {}).get("clean") for r in paths]
            rates = [r for r in rates if r is not None]
            if rates:
                base.append(float(np.mean(rates)))
        if not lines:
            continue
        from matplotlib.ticker import MaxNLocator

        with style():
            fig, axes = new_figure(len(PANELS), width=4.2, height=3.9)
            for ax, (panel, title) in zip(axes, PANELS, strict=False):
                for p, label, kind, x, y in lines:
                    if p != panel:
                        continue
                    color, _, marker = styles[label]
                    ls = {k: s for k, s, _ in KINDS}[kind]
                    desc = {k: d for k, _, d in KINDS}[kind]
                    ax.plot(
                        x,
                        y,
                        color=color,
                        linestyle=ls,
                        marker=marker,
                        markersize=3,
                        markevery=max(1, len(x) // 10),
                        label=f"{label} ({desc})",
                    )
                if panel == "precision" and base:
                    ax.axhline(
                        float(np.mean(base)),
                        color="0.4",
                        linestyle=":",
                        linewidth=1,
                        label="uncorrupted share of the training set",
                    )
                ax.set_xlabel("epoch")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_ylim(-0.02, 1.02)
                ax.set_title(title)
            axes[0].legend(fontsize="x-small", loc="best")
            fig.suptitle(_title(dataset, bits, setting, "selected samples"))
            written += save(
                fig,
                Path(out_dir),
                f"selection_{_slug(dataset)}_{int(bits)}b_{setting_slug(setting)}",
                formats,
                dpi,
            )
    if not written:
        raise _no_data(
            "selection",
            "no run recorded selected samples (methods that select samples, e.g. "
            "cmmq, cmmq-code, uot-rcl, report them each epoch)",
        )
    return written


__all__ = ["plot_selection"]
