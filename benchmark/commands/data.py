"""`xbench data` — dataset tools (check, extract, noise)."""
import click

from ..errors import XbenchError


@click.group()
def data():
    """Dataset tools: check, extract, noise."""


@data.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def check(args):
    """(not implemented yet)"""
    raise XbenchError("xbench data check: not implemented yet")
