"""Run configurations: one :class:`RunConfig` per grid cell, and its stable identity.

A run is identified by a SHA-256 of its full configuration (method, resolved
hyperparameters, dataset and its options, split checksum, bits, noise, seed, epochs and the
xbench version), so a result file's name says exactly what produced it
(one result file per run, as erikbern/ann-benchmarks @ f402b2c does).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from xbench._version import __version__
from xbench.errors import XbenchError


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's result."""

    method: str
    dataset: str
    bits: int
    noise: str = "none"  # TYPE:RATE
    seed: int = 0
    epochs: int | None = None  # None → the method's default_epochs
    hparams: tuple[tuple[str, Any], ...] = ()  # user overrides, sorted
    dataset_options: tuple[tuple[str, Any], ...] = ()
    noise_per_modality: bool = False
    assumed_noise_rate: float | None = None  # overrides the ρ given to small-loss methods
    eval_every: int = 0
    loss_epochs: tuple[int, ...] = ()  # epochs at which per-sample losses are saved
    topk: int | str | None = "dataset"  # "dataset" → the dataset's default R
    split_file: str | None = None
    group: str = ""  # the experiment group it came from (not part of the identity)
    version: str = __version__
    # real-valued retrieval and validation selection (xbench.running.selection); left out of the
    # identity at their defaults so older run ids stay valid
    retrieval: tuple[str, ...] = ()  # extra rankings of the continuous outputs: cosine, euclidean
    select: str = "last"  # "last" | "validation" (also report the best-validation epoch)
    select_every: int = 1
    validation_fraction: float = 0.1  # carved from train when the dataset has no validation split

    @property
    def hparams_dict(self) -> dict[str, Any]:
        return dict(self.hparams)

    def identity(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("group")
        d["hparams"] = {k: v for k, v in self.hparams}
        d["dataset_options"] = {k: v for k, v in self.dataset_options}
        d["loss_epochs"] = list(self.loss_epochs)
        d["retrieval"] = list(self.retrieval)
        if not self.retrieval:
            d.pop("retrieval")
        if self.select == "last":
            for key in ("select", "select_every", "validation_fraction"):
                d.pop(key)
        return d

    def run_id(self, resolved: dict[str, Any] | None = None) -> str:
        """Stable 16-hex-digit hash of the identity (plus resolved values such as the split checksum)."""
        payload = self.identity()
        if resolved:
            payload = {**payload, "resolved": resolved}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def label(self) -> str:
        hp = ",".join(f"{k}={v}" for k, v in self.hparams)
        return (
            f"{self.method}{'[' + hp + ']' if hp else ''} {self.dataset} {self.bits}b {self.noise} "
            f"seed{self.seed}"
        )


@dataclass
class RunResult:
    """What one run produced (serialised to JSON by :mod:`xbench.running.store`)."""

    run_id: str
    config: dict[str, Any]
    status: str  # "ok" | "failed"
    metrics: dict[str, Any] = field(default_factory=dict)  # {"i2t": {...}, "t2i": {...}}
    history: list[dict[str, Any]] = field(default_factory=list)
    noise: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(
        default_factory=dict
    )  # code health of the stored codes (xbench.evaluating.health)
    arrays: dict[str, Any] = field(default_factory=dict, repr=False)  # saved to the .npz beside

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("arrays")
        d["schema"] = 1
        return d


def parse_dataset_options(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--dataset-option`` values: ``["seed=3", "image=features"]`` → ``{"seed": 3, "image": "features"}``
    (ints, floats, true/false and none are converted; anything else stays a string)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise XbenchError(f"--dataset-option '{item}': expected KEY=VALUE (e.g. seed=1, image=features)")
        value = value.strip()
        low = value.lower()
        parsed: Any = value
        if low in ("true", "false"):
            parsed = low == "true"
        elif low == "none":
            parsed = None
        else:
            for cast in (int, float):
                try:
                    parsed = cast(value)
                    break
                except ValueError:
                    continue
        out[key.strip()] = parsed
    return out
