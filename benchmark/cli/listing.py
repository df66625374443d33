"""`xbench list [methods|datasets|noise]` — registered entries with a one-line description."""

from __future__ import annotations

import click


def _format_hp(cls, features_mode: bool = True) -> str:
    return ", ".join(f"{k}={v}" for k, v in cls.defaults(features_mode).items())


def _method_classes() -> list[tuple[str, object]]:
    """(name, class-like) of every registered method, without importing torch when possible.

    The built-ins' metadata are read from their source (:mod:`xbench.cli.method_catalog`) unless the
    methods wing is already imported (then its live registry, with methods registered at run time),
    a third-party package registers methods through the ``xbench.methods`` entry points (importing
    those plugins imports the wing), or the source uses a construct the reader does not follow.
    """
    import sys
    from importlib.metadata import entry_points

    from xbench.cli import method_catalog

    if "xbench.methods" not in sys.modules and not entry_points(group="xbench.methods"):
        try:
            return [(info.name, info) for info in method_catalog.builtin_methods()]
        except method_catalog.StaticReadError:
            pass
    from xbench import methods

    return methods.registry.items()


def describe_methods(verbose: bool = False) -> list[str]:
    return format_methods(_method_classes(), verbose)


def format_methods(entries, verbose: bool = False) -> list[str]:
    """The listing lines of (name, method class or :class:`~xbench.cli.method_catalog.MethodInfo`)."""
    lines = []
    for name, cls in entries:
        lines.append(f"{name:<12} {cls.description}")
        lines.append(
            f"{'':<12}   paper: {cls.paper or '-'}; bits: {cls.supported_bits}; epochs: {cls.default_epochs}"
        )
        if cls.hyperparameters:
            lines.append(f"{'':<12}   defaults: {_format_hp(cls)}")
        if verbose:
            for key, h in cls.hyperparameters.items():
                feat = f" (features mode: {h.features_default})" if h.features_default is not None else ""
                lines.append(f"{'':<14} {key} = {h.default}{feat} — {h.help} [source: {h.source}]")
    return lines


def describe_datasets(data_root: str) -> list[str]:
    from pathlib import Path

    from xbench import datasets

    lines = []
    for name, entry in datasets.registry.items():
        found = "found" if entry.available(Path(data_root)) else "not found"
        tag = f" [paper; {found} under {data_root}]" if entry.paper else ""
        lines.append(f"{name:<14} {entry.description}{tag}")
    return lines


def describe_noise(verbose: bool = False) -> list[str]:
    from xbench import noise

    lines = []
    for name, cls in noise.registry.items():
        lines.append(f"{name:<11} {cls.description}")
        if cls.definition:
            lines.append(f"{'':<11}   definition: {cls.definition}")
        if verbose and cls.used_by:
            lines.append(f"{'':<11}   used by: {cls.used_by}")
    return lines


@click.command("list")
@click.argument("what", type=click.Choice(["methods", "datasets", "noise", "all"]), default="all")
@click.option("--verbose", "-v", is_flag=True, help="Show every hyperparameter with its source.")
@click.option(
    "--data-root",
    envvar="XBENCH_DATA_ROOT",
    default="data",
    show_default=True,
    help="Where the dataset files live (env XBENCH_DATA_ROOT).",
)
def list_cmd(what: str, verbose: bool, data_root: str) -> None:
    """List registered methods, datasets and noise models."""
    sections = {
        "methods": lambda: describe_methods(verbose),
        "datasets": lambda: describe_datasets(data_root),
        "noise": lambda: describe_noise(verbose),
    }
    chosen = list(sections) if what == "all" else [what]
    for i, key in enumerate(chosen):
        if len(chosen) > 1:
            click.echo(("\n" if i else "") + f"[{key}]")
        for line in sections[key]():
            click.echo(line)
