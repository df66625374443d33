"""`xbench plot` — the paper's figures (PR, topN, recall@k, loss histogram, λ sensitivity, mAP vs
epoch) and a noise-rate sweep, as PNG and PDF."""

from __future__ import annotations

import click

from xbench.cli.options import metric_option, results_option
from xbench.errors import XbenchError

KIND_CHOICES = (
    "pr",
    "topn",
    "recall",
    "loss-hist",
    "sensitivity",
    "epochs",
    "noise-sweep",
    "selection",
    "all",
)


@click.command()
@results_option("Results folder (as written by xbench run).")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(KIND_CHOICES),
    help="pr / topn / recall: Fig. 4-5 curves; loss-hist: Fig. 6; sensitivity: Fig. 7; epochs: "
    "Fig. 1 and 8; noise-sweep: mAP vs noise rate; selection: precision/recall of clean samples among "
    "those selected, per epoch; all: every kind the results support.",
)
@click.option("--dataset", default=None, help="Only these datasets (comma list) [default: one figure each].")
@click.option("--bits", default=None, help="Only these code lengths (comma list) [default: one figure each].")
@click.option(
    "--task",
    type=click.Choice(["i2t", "t2i"]),
    default=None,
    help="Only this task (pr/topn/recall draw one figure per task) [default: both].",
)
@click.option("--noise", default=None, help="Only these noise settings (comma list of TYPE:RATE or none).")
@click.option("--methods", default=None, help="Only these methods (comma list).")
@click.option(
    "--only-defaults",
    is_flag=True,
    help="Only runs without hyperparameter overrides (--set); not for --kind sensitivity.",
)
@click.option(
    "--param",
    default=None,
    help="sensitivity: the hyperparameter on the x axis [default: every "
    "overridden one with two or more values].",
)
@click.option(
    "--epoch",
    type=int,
    default=None,
    help="loss-hist: the epoch of the stored per-sample losses [default: the last stored].",
)
@metric_option("sensitivity / noise-sweep: mAP@R or tie-averaged mAP@R.")
@click.option(
    "--out",
    "out_dir",
    default="results/figures",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the figures.",
)
@click.option("--formats", default="png,pdf", show_default=True, help="Comma list of png, pdf, svg.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True, help="PNG resolution.")
def plot(
    results,
    kind,
    dataset,
    bits,
    task,
    noise,
    methods,
    only_defaults,
    param,
    epoch,
    metric,
    out_dir,
    formats,
    dpi,
):
    """Render figures from a results folder, one per dataset / bits / noise setting (and task).

    Methods keep one colour (colour-blind-safe palette) in every figure. Files are named
    KIND_DATASET_BITSb_NOISE[_TASK].{png,pdf}. A damaged result file is skipped with a warning.
    """
    from xbench.cli.report import echo_result_warnings, filter_runs, load_frame
    from xbench.reporting import plots

    fmts = [f.strip().lower() for f in formats.split(",") if f.strip()]
    bad = [f for f in fmts if f not in ("png", "pdf", "svg")]
    if not fmts or bad:
        raise XbenchError(f"--formats: expected a comma list of png, pdf, svg; got '{formats}'")
    frame = filter_runs(load_frame(results), methods, dataset, bits, noise, only_defaults)
    if frame.empty:
        raise XbenchError("the filters leave no runs to plot")
    tasks = (task,) if task else plots.TASKS
    kinds = plots.KINDS if kind == "all" else (kind,)
    written = []
    for k in kinds:
        try:
            with echo_result_warnings():
                paths = plots.plot(
                    frame, k, out_dir, tasks=tasks, param=param, epoch=epoch, metric=metric, formats=fmts,
                    dpi=dpi,
                )  # fmt: skip
        except XbenchError as exc:
            if kind != "all":
                raise
            click.echo(f"skipped {k}: {exc.message}", err=True)
            continue
        written += paths
        for p in paths:
            click.echo(str(p))
    if not written:
        raise XbenchError("--kind all: the results support no figure (see the messages above)")
    click.echo(f"Wrote {len(written)} file(s) to {out_dir}.", err=True)
