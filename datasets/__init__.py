"""xbench.datasets — cross-modal data containers, loaders and their registry.

Built-in datasets register on import, in this order (``xbench list datasets`` shows it):
``synthetic``, ``synthetic-images``, ``mirflickr25k``, ``nuswide``, ``mscoco``, ``wikipedia``, ``files``; third-party
ones through the ``xbench.datasets`` entry-point group (see :mod:`xbench.datasets.registry`).
Split index files: :mod:`xbench.datasets.splits`.
"""
# ruff: noqa: I001  (the import order below is the registration order)
from .base import CrossModalData, Split, labels_to_multihot
from .entry import DatasetEntry, default_datasets, get, load, registry
from .errors import DatasetError, DatasetFileNotFoundError, MissingVariableError, SplitError
from .registry import Registry, UnknownEntryError
from . import synthetic  # noqa: F401  (registers "synthetic")
from . import synthetic_images  # noqa: F401  (registers "synthetic-images")
from . import mirflickr  # noqa: F401  (registers "mirflickr25k")
from . import nuswide  # noqa: F401
from . import mscoco  # noqa: F401
from . import wikipedia  # noqa: F401
from . import files  # noqa: F401  (registers "files", served as files:PATH)
from . import splits

__all__ = [
    "CrossModalData", "DatasetEntry", "DatasetError", "DatasetFileNotFoundError", "MissingVariableError",
    "Registry", "Split", "SplitError", "UnknownEntryError", "default_datasets", "get", "labels_to_multihot",
    "load", "registry", "splits",
]
