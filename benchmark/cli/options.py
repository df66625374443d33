"""Click options shared by several commands (one declaration each: same default, type and wording)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def results_option(help: str = "Results folder (as written by xbench run).") -> Callable[[Any], Any]:
    """``--results DIR`` (default ``results``): the folder ``xbench run`` writes."""
    return click.option(
        "--results", default="results", show_default=True, type=click.Path(file_okay=False), help=help
    )


def metric_option(
    help: str = "map: mAP@R with ties by database index; map_tie: tie-averaged mAP@R.",
) -> Callable[[Any], Any]:
    """``--metric map|map_tie`` (default ``map``)."""
    return click.option(
        "--metric", type=click.Choice(["map", "map_tie"]), default="map", show_default=True, help=help
    )


def level_option(help: str) -> Callable[[Any], Any]:
    """``--level`` (0.5–0.999, default 0.95): the confidence level of an interval."""
    return click.option(
        "--level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True, help=help
    )


def alpha_option(help: str) -> Callable[[Any], Any]:
    """``--alpha`` (0.0001–0.5, default 0.05): the significance level after Holm's correction."""
    return click.option(
        "--alpha", type=click.FloatRange(0.0001, 0.5), default=0.05, show_default=True, help=help
    )


def test_option(help: str) -> Callable[[Any], Any]:
    """``--test signflip|wilcoxon`` (parameter ``test_name``): the paired test over queries."""
    return click.option(
        "--test",
        "test_name",
        type=click.Choice(["signflip", "wilcoxon"]),
        default="signflip",
        show_default=True,
        help=help,
    )


def resamples_option(help: str = "Bootstrap resamples / random sign flips.") -> Callable[[Any], Any]:
    """``--resamples`` (99–10⁶, default 9999)."""
    return click.option(
        "--resamples", type=click.IntRange(99, 10**6), default=9999, show_default=True, help=help
    )


def run_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--datasets``, ``--bits``, ``--noise`` and ``--only-defaults``: which stored runs a table uses."""
    for option in reversed(
        (
            click.option("--datasets", default=None, help="Only these datasets (comma list)."),
            click.option("--bits", default=None, help="Only these code lengths (comma list)."),
            click.option(
                "--noise", default=None, help="Only these noise settings (comma list of TYPE:RATE or none)."
            ),
            click.option(
                "--only-defaults", is_flag=True, help="Only runs without hyperparameter overrides (--set)."
            ),
        )
    ):
        func = option(func)
    return func
