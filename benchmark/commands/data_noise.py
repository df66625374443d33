"""`xbench data noise` (being implemented)."""
import click

from ..errors import XbenchError


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def noise(args):
    """(not implemented yet)"""
    raise XbenchError("xbench data noise: not implemented yet")
