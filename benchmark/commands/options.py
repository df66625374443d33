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
