"""The one error type the CLI shows: a one-line message and exit status 2."""
from __future__ import annotations

import click


class XbenchError(click.ClickException):
    """Bad input: printed as ``Error: <message>`` on one line; exit status 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
