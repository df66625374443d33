"""xbench — a benchmark suite for deep cross-modal hashing under noisy labels.

The core (this package) composes the three wings — :mod:`xbench.datasets` → :mod:`xbench.noise` →
:mod:`xbench.methods` — and is grouped by job, one room each:

* :mod:`xbench.running` — configurations, the grid, the runner (one cell), parallel execution, claims,
  pre-flight checks, the thread policy and the result store;
* :mod:`xbench.evaluating` — retrieval metrics, code health, selection quality;
* :mod:`xbench.reporting` — the one reader of stored results, statistics over per-query values,
  tables and their rendering, published numbers, plots and the regression check;
* :mod:`xbench.cli` — the ``xbench`` command line, one module per command;
* :mod:`xbench.perf` — benchmark scripts that print speed and budget figures.

Shared by all rooms and the wings: :mod:`xbench.registry`, :mod:`xbench.errors`, :mod:`xbench.atomic`.
The wings never import the core.
"""

from xbench._version import __version__

__all__ = ["__version__"]
