"""The ``xbench`` command line (click). Each command lives in ``xbench.cli.<name>``.

The group imports a command's module only when that command is run or listed (``xbench
evaluate`` loads ``xbench.cli.evaluate`` alone, not the modules of ``run``, ``report`` or ``plot``).
"""

from __future__ import annotations

import importlib

import click

from xbench._version import __version__

#: command name → (module, attribute); ``xbench --help`` lists them sorted, as click does
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("xbench.cli.run", "run"),
    "list": ("xbench.cli.listing", "list_cmd"),
    "evaluate": ("xbench.cli.evaluate", "evaluate"),
    "data": ("xbench.cli.data", "data"),
    "report": ("xbench.cli.report", "report"),
    "compare": ("xbench.cli.compare", "compare"),
    "plot": ("xbench.cli.plot", "plot"),
    "check": ("xbench.cli.check", "check"),
    "baseline": ("xbench.cli.check", "baseline"),
}


def load_command(name: str) -> click.Command:
    """The command ``name`` of :data:`COMMANDS`, its module imported now (``data`` with ``data noise``)."""
    module, attribute = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    if name == "data" and "noise" not in command.commands:
        from xbench.cli import data_noise

        command.add_command(data_noise.noise)
    return command


class _LazyGroup(click.Group):
    """A click group whose commands are imported on first use (:func:`load_command`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None


@click.group(
    cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="xbench")
def main() -> None:
    """xbench: deep cross-modal hashing under noisy labels — run, evaluate, report, check."""


if __name__ == "__main__":  # pragma: no cover
    main()
