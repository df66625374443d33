"""xbench.noise — label-noise models and their registry.

Built-in models register on import (``none``, ``symmetric``, ``asymmetric``, ``swap``,
``bitflip``, ``mrl``); third-party ones through the ``xbench.noise`` entry-point group (a
:class:`NoiseModel` subclass). Models are addressed as ``TYPE:RATE`` (see
:class:`NoiseSpec`); :func:`inject` applies one to a run's training labels and reports the
realised noise. Definitions and sources: ../shared/reference/noise.md.
"""
from xbench.datasets.registry import Registry, UnknownEntryError

from .base import NoiseModel, NoiseResult, NoiseSpec, NoNoise, as_multihot, label_type
from .models import (
    AsymmetricNoise,
    BitFlipNoise,
    SwapNoise,
    SymmetricNoise,
    TransitionNoise,
    pairflip_matrix,
    symmetric_matrix,
)

registry: Registry[type[NoiseModel]] = Registry("noise model", "xbench.noise")
from .mrl import MRLNoise

for _cls in (NoNoise, SymmetricNoise, AsymmetricNoise, SwapNoise, BitFlipNoise, MRLNoise):
    registry.register(_cls.name, _cls)


def get(name: str) -> NoiseModel:
    """An instance of the registered noise model ``name`` (UnknownEntryError if unknown)."""
    return registry.get(name)()


from .inject import NoiseOutcome, inject, noise_rng, realised_stats, resolve

__all__ = [
    "AsymmetricNoise",
    "BitFlipNoise",
    "MRLNoise",
    "NoNoise",
    "NoiseModel",
    "NoiseOutcome",
    "NoiseResult",
    "NoiseSpec",
    "Registry",
    "SwapNoise",
    "SymmetricNoise",
    "TransitionNoise",
    "UnknownEntryError",
    "as_multihot",
    "get",
    "inject",
    "label_type",
    "noise_rng",
    "pairflip_matrix",
    "realised_stats",
    "registry",
    "resolve",
    "symmetric_matrix",
]
