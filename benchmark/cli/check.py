"""`xbench check` (regression gate against a baseline) and `xbench baseline` (write one)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xbench.cli.options import metric_option, results_option
from xbench.errors import XbenchError


@click.command()
@results_option("Results folder to check.")
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
@click.option(
    "--fail-unhealthy",
    is_flag=True,
    help="Also fail (exit 1) when a run's codes are unhealthy (collapsed; thresholds in docs/health.md).",
)
def check(results, baseline_file, tolerance, show_all, fail_unhealthy=False):
    """Compare every (method, dataset, bits, noise, task) cell of the baseline with the results.

    Prints the regressions, improvements, missing cells and damaged result files. Exit status:
    0 when no cell dropped by more than the tolerance, none is missing, no result file is damaged
    (and, with --fail-unhealthy, no run has unhealthy codes); 1 otherwise; 2 for bad input (no
    results, unreadable baseline, bad tolerance).
    """
    from xbench.reporting import check as chk
    from xbench.reporting.results import load

    tol = chk.check_tolerance(tolerance)
    baseline = chk.read_baseline(baseline_file)
    found = load(results)
    if not found.records and not found.damaged:
        raise XbenchError(f"--results {results}: no run results found (expected {results}/runs/...)")
    frame = found.frame()
    outcome = chk.compare(frame, baseline, tol, damaged=found.damaged)
    for line in chk.format_report(outcome, show_all):
        click.echo(line)
    sick = _unhealthy_lines(frame) if fail_unhealthy else []
    for line in sick:
        click.echo(line)
    if not outcome.passed or sick:
        sys.exit(1)


def _unhealthy_lines(frame) -> list[str]:
    """One line per run whose codes are unhealthy, with what breaks the thresholds."""
    from xbench.evaluating import health
    from xbench.reporting.results import code_health

    runs = frame[frame["status"] == "ok"].drop_duplicates("run_id")
    lines = []
    for _, r in runs.iterrows():
        rec = r["record"]
        found = health.problems(code_health(rec))
        if found:
            lines.append(
                f"UNHEALTHY {r['label']} {r['dataset']} {r['bits']}b {r['setting']} seed {r['seed']}: "
                + "; ".join(found)
            )
    if lines:
        lines.insert(0, f"{len(lines)} run(s) with unhealthy codes (--fail-unhealthy):")
    return lines


@click.command()
@results_option("Results folder to take the baseline from.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Baseline JSON file to write.")
@metric_option("map: mAP@R (ties by database index); map_tie: tie-averaged mAP@R.")
def baseline(results, out, metric):
    """Write a baseline: the mean metric over seeds of every (method, dataset, bits, noise, task) cell.

    A damaged result file is skipped with a warning naming it."""
    from xbench.atomic import atomic_write_text
    from xbench.cli.report import load_frame
    from xbench.reporting import check as chk
    from xbench.reporting.results import failed_runs

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
