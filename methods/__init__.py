"""xbench.methods — the ``Hasher`` interface, its training skeleton, shared networks and the registry.

The built-in methods are imported explicitly below and registered in display order (a
missing module is an ImportError, never a silent skip); third-party methods through the
``xbench.methods`` entry-point group (an entry point naming a ``Hasher`` subclass registers
it under the entry point's name). See :mod:`xbench.registry` and ``docs/extending.md``.
"""

from xbench.registry import Registry, UnknownEntryError

from .base import Hasher, Hyper, ModalityShape, ProblemShape, TrainData, to_codes
from .bce import BCE
from .cca import CCA
from .cmhh import CMHH
from .cmmq import CMMQ
from .cmmq_code import CMMQCode
from .dcmh import DCMH
from .lsh import LSH
from .mrl import MRL
from .pls import PLS
from .prdh import PRDH
from .ssah import SSAH
from .uot_rcl import UOTRCL

# registration order (``all`` in a grid); tables and plots sort by each class's ``order``
BUILTINS: tuple[type[Hasher], ...] = (LSH, BCE, CMMQ, CMMQCode, DCMH, PRDH, SSAH, CMHH, MRL, UOTRCL, CCA, PLS)

registry: Registry[type[Hasher]] = Registry("method", "xbench.methods")
registry.register_all(BUILTINS)


def register(cls: type[Hasher]) -> type[Hasher]:
    """Register a Hasher subclass under its ``name`` (for code that registers at run time)."""
    registry.register(cls.name, cls)
    return cls


def get(name: str) -> type[Hasher]:
    return registry.get(name)


__all__ = [
    "BUILTINS",
    "Hasher",
    "Hyper",
    "ModalityShape",
    "ProblemShape",
    "Registry",
    "TrainData",
    "UnknownEntryError",
    "get",
    "register",
    "registry",
    "to_codes",
]
