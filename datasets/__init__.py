"""xbench.datasets — cross-modal data containers, loaders and their registry.

Built-in datasets register on import; third-party ones through the ``xbench.datasets``
entry-point group (see :mod:`xbench.datasets.registry`).
"""
from .base import CrossModalData, Split, labels_to_multihot
from .entry import DatasetEntry, default_datasets, get, load, registry
from .registry import Registry, UnknownEntryError
from . import synthetic  # noqa: F401  (registers "synthetic")

__all__ = ["CrossModalData", "Split", "labels_to_multihot", "DatasetEntry", "default_datasets", "get",
           "load", "registry", "Registry", "UnknownEntryError"]
