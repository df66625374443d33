"""`xbench report` — the paper's Table 2 (or an MRL-style noise sweep) from a results folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import XbenchError


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
    from ..report import normalise_noise

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
@click.option(
    "--results",
    default="results",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Results folder (as written by xbench run).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["latex", "markdown", "csv", "html"]),
    default=None,
    help="Output format [default: from the --out suffix (.tex .md .csv .html), else markdown].",
)
@click.option(
    "--metric",
    type=click.Choice(["map", "map_tie"]),
    default="map",
    show_default=True,
    help="map: mAP@R with ties by database index; map_tie: tie-averaged mAP@R.",
)
@click.option(
    "--layout",
    type=click.Choice(["table2", "sweep"]),
    default="table2",
    show_default=True,
    help="table2: Task × Method rows, Dataset × bits columns, one table per noise setting (CMMQ "
    "Table 2). sweep: Method rows, Dataset × Task × noise-rate columns (MRL Tables 1-2).",
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
@click.option("--datasets", default=None, help="Only these datasets (comma list).")
@click.option("--bits", default=None, help="Only these code lengths (comma list).")
@click.option("--noise", default=None, help="Only these noise settings (comma list of TYPE:RATE or none).")
@click.option("--only-defaults", is_flag=True, help="Only runs without hyperparameter overrides (--set).")
@click.option("--digits", type=click.IntRange(1, 6), default=3, show_default=True, help="Decimals shown.")
@click.option(
    "--fragment", is_flag=True, help="LaTeX: only the table environments (for \\input), no preamble."
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
):
    """Tables of mean ± std over seeds, best per column in bold, failed runs listed.

    Each caption states the noise setting, R of mAP@R (R = all when the whole database is
    ranked), the number of seeds and the exact metric definition. Missing cells are shown
    as "—". Works on partial results.
    """
    from .. import report as rep
    from ..report_render import format_from_suffix, render
    from ..store import atomic_write_text

    fmt = fmt or format_from_suffix(out) or "markdown"
    frame = filter_runs(rep.load_runs(results), methods, datasets, bits, noise, only_defaults)
    if frame.empty:
        raise XbenchError("the filters leave no runs to report")
    tables = (
        rep.table2(frame, metric, digits) if layout == "table2" else rep.sweep_tables(frame, metric, digits)
    )
    notes: list[str] = []
    if compare == "paper":
        from ..reference import load_reference

        compared, notes = rep.compare_tables(frame, load_reference(reference_dir), metric)
        if not compared:
            notes.append(
                "--compare paper: no published number matches these results (matching needs the same "
                "dataset, method, noise model and rate, per-modality setting, split protocol, retrieval and "
                "epoch selection; see docs/mrl.md)"
            )
        tables += compared
    failed = rep.failed_runs(frame)
    text = render(
        fmt, tables, failed, notes, digits, standalone=not fragment, title=f"xbench report: {Path(results)}"
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
