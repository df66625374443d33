"""The one error type the CLI shows: a one-line message and exit status 2."""

from __future__ import annotations

import click


class XbenchError(click.ClickException):
    """Bad input: printed as ``Error: <message>`` on one line; exit status 2."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class XbenchProblems(XbenchError):
    """Several problems found together: printed as one ``Error: …`` line each; exit status 2."""

    def __init__(self, problems: list[str]):
        self.problems = [" ".join(str(p).split()) for p in problems]
        super().__init__("; ".join(self.problems))

    def show(self, file=None) -> None:
        for problem in self.problems:
            click.echo(f"Error: {problem}", file=file, err=file is None)
