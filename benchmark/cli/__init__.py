"""The ``xbench`` command line (click). Each command lives in ``xbench.cli.<name>``."""

from __future__ import annotations

import click

from xbench._version import __version__
from xbench.cli import check, compare, data, data_noise, evaluate, listing, plot, report, run


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="xbench")
def main() -> None:
    """xbench: deep cross-modal hashing under noisy labels — run, evaluate, report, check."""


main.add_command(run.run)
main.add_command(listing.list_cmd)
main.add_command(evaluate.evaluate)
data.data.add_command(data_noise.noise)
main.add_command(data.data)
main.add_command(report.report)
main.add_command(compare.compare)
main.add_command(plot.plot)
main.add_command(check.check)
main.add_command(check.baseline)


if __name__ == "__main__":  # pragma: no cover
    main()
