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


from .lsh import LSH  # noqa: E402

register(LSH)

__all__ = ["Hasher", "Hyper", "ModalityShape", "ProblemShape", "TrainData", "to_codes", "registry",
           "register", "get", "Registry", "UnknownEntryError", "LSH"]
