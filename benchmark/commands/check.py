"""`xbench check` (regression gate against a baseline) and `xbench baseline` (write one)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import XbenchError


@click.command()
@click.option(
    "--results",
    default="results",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Results folder to check.",
)
@click.option(
    "--baseline",
    "baseline_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Baseline JSON written by 'xbench baseline'.",
)
@click.option(
    "--tolerance",
    default="0.01",
    metavar="FLOAT",
    show_default=True,
    help="Allowed drop of the mean mAP of a cell (absolute, a finite number ≥ 0) before it counts "
    "as a regression.",
)
@click.option("--all", "show_all", is_flag=True, help="List every cell, also those within tolerance.")
def check(results, baseline_file, tolerance, show_all):
    """Compare every (method, dataset, bits, noise, task) cell of the baseline with the results.

    Prints the regressions, improvements, missing cells and damaged result files. Exit status:
    0 when no cell dropped by more than the tolerance, none is missing and no result file is
    damaged; 1 otherwise; 2 for bad input (no results, unreadable baseline, bad tolerance).
    """
    from .. import check as chk
    from ..results import load

    tol = chk.check_tolerance(tolerance)
    baseline = chk.read_baseline(baseline_file)
    found = load(results)
    if not found.records and not found.damaged:
        raise XbenchError(f"--results {results}: no run results found (expected {results}/runs/...)")
    outcome = chk.compare(found.frame(), baseline, tol, damaged=found.damaged)
    for line in chk.format_report(outcome, show_all):
        click.echo(line)
    if not outcome.passed:
        sys.exit(1)


@click.command()
@click.option(
    "--results",
    default="results",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Results folder to take the baseline from.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Baseline JSON file to write.")
@click.option(
    "--metric",
    type=click.Choice(["map", "map_tie"]),
    default="map",
    show_default=True,
    help="map: mAP@R (ties by database index); map_tie: tie-averaged mAP@R.",
)
def baseline(results, out, metric):
    """Write a baseline: the mean metric over seeds of every (method, dataset, bits, noise, task) cell.

    A damaged result file is skipped with a warning naming it."""
    from .. import check as chk
    from ..atomic import atomic_write_text
    from ..results import failed_runs
    from .report import load_frame

    frame = load_frame(results)
    doc = chk.make_baseline(frame, metric)
    atomic_write_text(Path(out), chk.dumps_baseline(doc))
    failed = failed_runs(frame)
    click.echo(f"Wrote {len(doc['cells'])} cell(s) to {out}.", err=True)
    if failed:
        click.echo(
            f"Warning: {len(failed)} failed run(s) are not in the baseline: "
            + "; ".join(
                f"{f['label']} {f['dataset']} {f['bits']}b {f['noise']} seed {f['seed']}" for f in failed[:5]
            )
            + (" ..." if len(failed) > 5 else ""),
            err=True,
        )
