"""xbench.noise — label-noise models and their registry.

Built-in models register on import; third-party ones through the ``xbench.noise``
entry-point group. Models are addressed as ``TYPE:RATE`` (see :class:`NoiseSpec`).
"""
from xbench.datasets.registry import Registry, UnknownEntryError

from .base import NoiseModel, NoiseResult, NoiseSpec, NoNoise

registry: Registry[type[NoiseModel]] = Registry("noise model", "xbench.noise")
registry.register("none", NoNoise)


def get(name: str) -> NoiseModel:
    """An instance of the registered noise model ``name``."""
    return registry.get(name)()


from .inject import NoiseOutcome, inject, realised_stats  # noqa: E402

__all__ = ["NoiseOutcome", "inject", "realised_stats", "NoiseModel", "NoiseResult", "NoiseSpec", "NoNoise", "registry", "get", "Registry",
           "UnknownEntryError"]
