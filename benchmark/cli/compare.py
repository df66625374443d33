"""`xbench compare` — paired differences between methods with intervals, p-values and Holm's correction."""

from __future__ import annotations

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
from xbench.cli.report import filter_runs, load_frame
from xbench.errors import XbenchError


def resolve_pair(frame, pair: str) -> tuple[str, str]:
    """The two row labels named by ``--pair A,B`` (a method name with one label, or a row label)."""
    names = [p.strip() for p in pair.split(",") if p.strip()]
    if len(names) != 2 or names[0] == names[1]:
        raise XbenchError(f"--pair: expected two different methods as A,B, got '{pair}'")
    labels = frame[["method", "label"]].drop_duplicates()
    out = []
    for name in names:
        if name in set(labels["label"]):
            out.append(name)
            continue
        mine = sorted(labels.loc[labels["method"] == name, "label"])
        if len(mine) == 1:
            out.append(mine[0])
        elif mine:
            raise XbenchError(f"--pair: method '{name}' has several variants; name one of: {'; '.join(mine)}")
        else:
            have = sorted(set(labels["method"]) | set(labels["label"]))
            raise XbenchError(f"--pair: no results for '{name}'; available: {', '.join(have)}")
    return out[0], out[1]


@click.command()
@results_option("Results folder (as written by xbench run).")
@click.option(
    "--pair",
    default=None,
    metavar="A,B",
    help="Compare method A with method B in every cell holding both [default: every method "
    "against the best of each cell].",
)
@metric_option("map: mAP@R with ties by database index; map_tie: tie-averaged mAP@R.")
@test_option("Paired test over queries: sign-flip permutation or Wilcoxon signed-rank.")
@level_option("Confidence level of the paired interval.")
@alpha_option("Significance level applied to the Holm-adjusted p-values.")
@resamples_option("Bootstrap resamples / random sign flips.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "csv"]),
    default=None,
    help="Output format [default: from the --out suffix (.md .csv), else markdown].",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
@run_filter_options
@click.option("--digits", type=click.IntRange(1, 6), default=3, show_default=True, help="Decimals shown.")
def compare(
    results,
    pair,
    metric,
    test_name,
    level,
    alpha,
    resamples,
    seed,
    fmt,
    out,
    datasets,
    bits,
    noise,
    only_defaults,
    digits,
):
    """Paired comparisons of methods on the same queries and seeds.

    For each cell (noise setting, dataset, R, bits, task): the mean difference A − B, its paired
    bootstrap interval, and the p-value of a paired test over queries; Holm's correction runs over
    all comparisons of one noise setting (one Table 2). Needs the per-query values that
    'xbench run' stores with each run. Definitions: docs/statistics.md.
    """
    from xbench.atomic import atomic_write_text
    from xbench.reporting import stats
    from xbench.reporting.render import format_from_suffix, render_comparisons
    from xbench.reporting.results import ok_rows

    fmt = fmt or format_from_suffix(out) or "markdown"
    if fmt not in ("markdown", "csv"):
        raise XbenchError(f"--out {out}: expected a .md or .csv file (or give --format)")
    frame = filter_runs(load_frame(results), None, datasets, bits, noise, only_defaults)
    if frame.empty:
        raise XbenchError("the filters leave no runs to compare")
    labels = resolve_pair(frame, pair) if pair else None
    ok, notes = ok_rows(frame, metric)
    samples, more = stats.load_samples(ok, metric)
    notes += more
    if labels:
        samples = {k: {lab: v[lab] for lab in labels if lab in v} for k, v in samples.items()}
    comparisons = stats.compare(
        samples, pair=labels, test=test_name, level=level, n_resamples=resamples, seed=seed
    )
    if not comparisons:
        raise XbenchError(
            "nothing to compare: no cell holds per-query values of two methods"
            + (f" ({'; '.join(notes)})" if notes else "")
        )
    text = render_comparisons(comparisons, fmt, digits=digits, level=level, alpha=alpha, metric=metric)
    if out:
        atomic_write_text(Path(out), text)
        click.echo(f"Wrote {len(comparisons)} comparison(s) ({fmt}) to {out}.", err=True)
    else:
        click.echo(text, nl=False)
    for n in notes:
        click.echo(f"Note: {n}", err=True)
