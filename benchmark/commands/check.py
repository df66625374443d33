"""`xbench check` / `xbench baseline` (being implemented)."""
import click

from ..errors import XbenchError


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def check(args):
    """(not implemented yet)"""
    raise XbenchError("xbench check: not implemented yet")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def baseline(args):
    """(not implemented yet)"""
    raise XbenchError("xbench baseline: not implemented yet")
