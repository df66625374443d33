"""xbench.datasets — cross-modal data containers, loaders and their registry.

Each built-in dataset module defines its registry entry (``ENTRY``, a :class:`DatasetEntry`
with its display metadata); this package imports the modules explicitly and registers the
entries in this order (``xbench list datasets`` shows it): ``synthetic``, ``synthetic-images``,
``mirflickr25k``,
``nuswide``, ``mscoco``, ``wikipedia``, ``files``. Third-party datasets register through the
``xbench.datasets`` entry-point group (see :mod:`xbench.registry`). Split index files:
:mod:`xbench.datasets.splits`.
"""

from xbench.registry import Registry, UnknownEntryError

from . import files, mirflickr, mscoco, nuswide, splits, synthetic, synthetic_images, wikipedia
from .base import CrossModalData, Split, labels_to_multihot
from .entry import DatasetEntry, default_datasets, get, load, registry
from .errors import DatasetError, DatasetFileNotFoundError, MissingVariableError, SplitError

BUILTINS: tuple[DatasetEntry, ...] = (
    synthetic.ENTRY,
    synthetic_images.ENTRY,
    mirflickr.ENTRY,
    nuswide.ENTRY,
    mscoco.ENTRY,
    wikipedia.ENTRY,
    files.ENTRY,
)
registry.register_all(BUILTINS)

__all__ = [
    "BUILTINS",
    "CrossModalData",
    "DatasetEntry",
    "DatasetError",
    "DatasetFileNotFoundError",
    "MissingVariableError",
    "Registry",
    "Split",
    "SplitError",
    "UnknownEntryError",
    "default_datasets",
    "get",
    "labels_to_multihot",
    "load",
    "registry",
    "splits",
]
