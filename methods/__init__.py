"""xbench.methods — the ``Hasher`` interface, shared networks and the method registry.

Built-in methods register on import; third-party methods through the ``xbench.methods``
entry-point group (an entry point naming a ``Hasher`` subclass registers it under the entry
point's name).
"""
from xbench.datasets.registry import Registry, UnknownEntryError

from .base import Hasher, Hyper, ModalityShape, ProblemShape, TrainData, to_codes

registry: Registry[type[Hasher]] = Registry("method", "xbench.methods")


def register(cls: type[Hasher]) -> type[Hasher]:
    """Class decorator: register a Hasher subclass under its ``name``."""
    registry.register(cls.name, cls)
    return cls


def get(name: str) -> type[Hasher]:
    return registry.get(name)


from .lsh import LSH

register(LSH)

# Built-in method modules register themselves with @register when imported.
import importlib as _importlib
import importlib.util as _util

_BUILTIN_MODULES = ("bce", "cmmq", "cmmq_code", "dcmh", "prdh", "ssah", "cmhh", "mrl", "uot_rcl", "cca", "pls")
for _name in _BUILTIN_MODULES:
    if _util.find_spec(f"{__name__}.{_name}") is not None:
        _importlib.import_module(f"{__name__}.{_name}")

__all__ = [
    "LSH",
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
