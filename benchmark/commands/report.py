"""`xbench report` (owned by its issue; being implemented)."""
import click

from ..errors import XbenchError


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def report(args):
    """(not implemented yet)"""
    raise XbenchError("xbench report: not implemented yet")
