"""`xbench report` — the paper's Table 2 (or an MRL-style noise sweep) from a results folder."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import click

from xbench.cli.options import (
    alpha_option,
    level_option,
    metric_option,
    resamples_option,
    results_option,
    run_filter_options,
    test_option,
)
from xbench.errors import XbenchError


def load_frame(results: str):
    """The results DataFrame of ``results`` (:func:`xbench.reporting.results.load_runs`), each damaged file
    skipped with a one-line warning on stderr naming it."""
    from xbench.reporting.results import load_runs

    return load_runs(results, on_damaged=lambda d: click.echo(f"Warning: {d}", err=True))


@contextlib.contextmanager
def echo_result_warnings() -> Iterator[None]:
    """Show each :class:`xbench.reporting.results.ResultWarning` raised inside the block (a damaged file
    skipped) as one ``Warning: ...`` line on stderr; other warnings pass on unchanged."""
    from xbench.reporting.results import ResultWarning

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResultWarning)
            yield
    finally:
        for w in caught:
            if issubclass(w.category, ResultWarning):
                click.echo(f"Warning: {w.message}", err=True)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def filter_runs(
    frame,
    methods: str | None = None,
    datasets: str | None = None,
    bits: str | None = None,
    noise: str | None = None,
    only_defaults: bool = False,
):
    """Keep the rows matching comma-list filters (and, with ``only_defaults``, the runs without
    hyperparameter overrides); an unknown value is a one-line XbenchError."""
    from xbench.reporting.results import normalise_noise

    def pick(frame, column, wanted, option, convert=str):
        if not wanted:
            return frame
        try:
            values = [convert(w) for w in wanted]
        except ValueError:
            raise XbenchError(
                f"{option}: expected a comma list of integers, got '{','.join(wanted)}'"
            ) from None
        have = sorted({convert(v) for v in frame[column].dropna()}, key=str)
        unknown = [v for v in values if v not in have]
        if unknown:
            raise XbenchError(
                f"{option}: no results for {', '.join(map(str, unknown))}; "
                f"available: {', '.join(map(str, have)) or '(none)'}"
            )
        return frame[frame[column].map(lambda v: v is not None and convert(v) in values)]

    frame = pick(frame, "method", _split(methods), "--methods")
    frame = pick(frame, "dataset", _split(datasets), "--datasets")
    frame = pick(frame, "bits", _split(bits), "--bits", int)
    frame = pick(frame, "noise", [normalise_noise(n) for n in _split(noise)], "--noise")
    if only_defaults:
        frame = frame[frame["hparams"] == "{}"]
    return frame


@click.command()
@results_option("Results folder (as written by xbench run).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["latex", "markdown", "csv", "html"]),
    default=None,
    help="Output format [default: from the --out suffix (.tex .md .csv .html), else markdown].",
)
@metric_option("map: mAP@R with ties by database index; map_tie: tie-averaged mAP@R.")
@click.option(
    "--layout",
    type=click.Choice(["table2", "table2-noise", "sweep"]),
    default="table2",
    show_default=True,
    help="table2: the CMMQ paper's Table 2 — Task (I→T, T→I) × Method rows, Dataset × bits columns, "
    "one table per noise setting. table2-noise: the same with the noise settings side by side "
    "(Noise × Dataset × bits columns) and each setting's method ranking, e.g. with --noise "
    "symmetric:0.6,symmetric-sample:0.6. sweep: Method rows, Dataset × Task × noise-rate columns "
    "(MRL Tables 1-2).",
)
@click.option(
    "--compare",
    type=click.Choice(["paper"]),
    default=None,
    help="Add tables of ours beside the published numbers (shipped with xbench) with the difference.",
)
@click.option(
    "--reference",
    "reference_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of published-number CSV files [default: the shipped ones plus ./results/reference/].",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
@click.option("--methods", default=None, help="Only these methods (comma list).")
@run_filter_options
@click.option("--digits", type=click.IntRange(1, 6), default=3, show_default=True, help="Decimals shown.")
@click.option(
    "--fragment", is_flag=True, help="LaTeX: only the table environments (for \\input), no preamble."
)
@click.option(
    "--ci",
    "ci_style",
    type=click.Choice(["pm", "interval"]),
    default=None,
    help="Show a bootstrap confidence interval per cell instead of the std: pm = ± half-width, "
    "interval = [low, high] (needs the per-query values stored with each run).",
)
@click.option(
    "--significance",
    is_flag=True,
    help="Mark (‡) the values not significantly different from the bold best of their column "
    "(paired test over queries, Holm's correction per table).",
)
@level_option("Confidence level of --ci.")
@alpha_option("Significance level of --significance (after Holm's correction).")
@test_option("Paired test of --significance.")
@resamples_option("Bootstrap resamples / random sign flips.")
@click.option("--stats-seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@click.option(
    "--figures/--no-figures",
    default=True,
    show_default=True,
    help="HTML: embed the figures the results support.",
)
def report(
    results,
    fmt,
    metric,
    layout,
    compare,
    reference_dir,
    out,
    methods,
    datasets,
    bits,
    noise,
    only_defaults,
    digits,
    fragment,
    ci_style,
    significance,
    level,
    alpha,
    test_name,
    resamples,
    stats_seed,
    figures,
):
    """The CMMQ paper's Table 2 (the default) and other tables: mean ± std over seeds, best in bold.

    Without options: the CMMQ paper's Table 2 layout (methods × datasets × bits, one block for
    I→T and one for T→I, one table per noise setting) of every run in ./results, as Markdown.
    With --ci, bootstrap confidence intervals per cell; with --significance, ‡ marks values not
    significantly different from the best (docs/statistics.md). --format html writes one
    self-contained page (sortable tables, embedded figures, run settings, failed/unhealthy runs).

    Each caption states the noise setting, R of mAP@R (R = all when the whole database is
    ranked), the number of seeds and the exact metric definition. Missing cells are shown
    as "—"; failed runs are listed below the tables. Works on partial results; a damaged result
    file is skipped with a warning naming it.
    """
    from xbench.atomic import atomic_write_text
    from xbench.reporting import tables as rep
    from xbench.reporting.render import format_from_suffix, render
    from xbench.reporting.results import failed_runs

    fmt = fmt or format_from_suffix(out) or "markdown"
    frame = filter_runs(load_frame(results), methods, datasets, bits, noise, only_defaults)
    if frame.empty:
        raise XbenchError("the filters leave no runs to report")
    builders = {"table2": rep.table2, "table2-noise": rep.table2_by_noise, "sweep": rep.sweep_tables}
    tables = builders[layout](frame, metric, digits)
    notes: list[str] = []
    if compare == "paper":
        from xbench.reporting.reference import load_reference

        compared, notes = rep.compare_tables(frame, load_reference(reference_dir), metric)
        if not compared:
            notes.append(
                "--compare paper: no published number matches these results (matching needs the same "
                "dataset, method, noise model and rate, per-modality setting, split protocol, retrieval and "
                "epoch selection; see docs/mrl.md)"
            )
        tables += compared
    if ci_style or significance:
        from xbench.reporting.significance import annotate_tables

        notes += annotate_tables(
            tables,
            frame,
            metric,
            ci=ci_style is not None,
            significance=significance,
            level=level,
            alpha=alpha,
            test=test_name,
            n_resamples=resamples,
            seed=stats_seed,
        )
    failed = failed_runs(frame)
    page = {}
    if fmt == "html":
        from xbench.reporting import page as report_page

        page = {"settings": report_page.run_settings(frame), "unhealthy": report_page.unhealthy_runs(frame)}
        if figures:
            page["figures"], fig_notes = report_page.figures(frame, metric)
            notes += fig_notes
    text = render(
        fmt,
        tables,
        failed,
        notes,
        digits,
        standalone=not fragment,
        title=f"xbench report: {Path(results)}",
        ci_style=ci_style,
        **page,
    )
    if out:
        atomic_write_text(Path(out), text)
        click.echo(f"Wrote {len(tables)} table(s) ({fmt}) to {out}.", err=True)
    else:
        click.echo(text, nl=False)
    if failed:
        click.echo(f"{len(failed)} failed run(s) are listed in the report.", err=True)
    for n in notes:
        click.echo(f"Note: {n}", err=True)
