"""xbench — a benchmark suite for deep cross-modal hashing under noisy labels.

The core (this package) composes the three wings: :mod:`xbench.datasets` →
:mod:`xbench.noise` → :mod:`xbench.methods`, then evaluates (:mod:`xbench.metrics`),
stores (:mod:`xbench.store`) and reports. The wings never import the core.
"""

from ._version import __version__

__all__ = ["__version__"]
