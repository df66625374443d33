"""xbench.noise — label-noise models and their registry.

The built-in models (``none``, ``symmetric``, ``asymmetric``, ``swap``, ``bitflip``,
``symmetric-sample``, ``mrl``) are
imported explicitly and registered from :data:`BUILTINS` (:mod:`xbench.registry`);
third-party ones through the ``xbench.noise`` entry-point group (a :class:`NoiseModel`
subclass). Models are addressed as ``TYPE:RATE`` (see
:class:`NoiseSpec`); :func:`inject` applies one to a run's training labels and reports the
realised noise. Definitions and sources: docs/noise.md.
"""

from xbench.registry import Registry, UnknownEntryError

from .base import NoiseModel, NoiseResult, NoiseSpec, NoNoise, as_multihot, label_type
from .models import (
    AsymmetricNoise,
    BitFlipNoise,
    SwapNoise,
    SymmetricNoise,
    SymmetricSampleNoise,
    TransitionNoise,
    pairflip_matrix,
    symmetric_matrix,
)
from .mrl import MRLNoise

BUILTINS: tuple[type[NoiseModel], ...] = (
    NoNoise,
    SymmetricNoise,
    AsymmetricNoise,
    SwapNoise,
    BitFlipNoise,
    SymmetricSampleNoise,
    MRLNoise,
)
registry: Registry[type[NoiseModel]] = Registry("noise model", "xbench.noise")
registry.register_all(BUILTINS)


def get(name: str) -> NoiseModel:
    """An instance of the registered noise model ``name`` (UnknownEntryError if unknown)."""
    return registry.get(name)()


from .inject import NoiseOutcome, inject, noise_rng, realised_stats, resolve  # noqa: E402 - needs `get` above

__all__ = [
    "BUILTINS",
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
    "SymmetricSampleNoise",
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
