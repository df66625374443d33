"""The ``Hasher`` interface every cross-modal hashing method implements.

A hasher is built from the problem shape (:class:`ProblemShape`: the input kind and size of
each modality, the number of classes), the code length ``bits`` and its hyperparameters.
The runner then calls :meth:`Hasher.fit_epoch` once per epoch with the whole (noisy)
training set — methods that need buffers over all training items (DCMH, PRDH, SSAH) build
them on the first call — and finally :meth:`Hasher.encode` on query and database batches.

Contract
--------
* ``fit_epoch(data, epoch) -> dict[str, float]``: one pass over ``data`` (a
  :class:`TrainData` of tensors on the method's device); returns scalars to log (at least
  ``"loss"``). ``epoch`` counts from 0.
* ``continuous(modality, x)``: real-valued outputs (N×K) for a batch; ``encode`` turns them
  into ±1 codes with the suite's rule (+1 where the output is ≥ 0;
  ../shared/reference/evaluation.md §8).
* ``sample_losses(data)``: optional per-sample training losses (for the paper's Figure 6);
  ``None`` when a method has no per-sample loss.
* Hyperparameters are declared in ``hyperparameters`` as :class:`Hyper` (default, source,
  meaning, optional features-mode default); ``supported_bits`` describes the valid code
  lengths and :meth:`check_bits` enforces them.
* Determinism: everything random inside a method derives from ``seed`` (``self.generator``
  for batch order; torch's global RNG is seeded by the runner for initialisation).
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

MODALITIES = ("image", "text")


@dataclass(frozen=True)
class ModalityShape:
    """Input of one modality: ``kind`` is features / images (image) or bow / features (text)."""

    kind: str
    dim: int | tuple[int, ...]


@dataclass(frozen=True)
class ProblemShape:
    image: ModalityShape
    text: ModalityShape
    num_classes: int
    multi_label: bool = True
    num_train: int | None = None
    dataset: str = ""

    @property
    def image_is_raw(self) -> bool:
        return self.image.kind == "images"


@dataclass
class TrainData:
    """The (noisy) training set handed to ``fit_epoch``; tensors live on the method's device."""

    image: torch.Tensor  # N×D float32 features or N×3×H×W uint8 images
    text: torch.Tensor  # N×T float32
    labels: torch.Tensor  # N×C float32 noisy multi-hot labels (shared by both modalities by default)
    noise_rate: float = 0.0  # the (known or assumed) noise rate ρ, for small-loss selection
    text_labels: torch.Tensor | None = None  # set only with --noise-per-modality (MRL setting)
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def labels_of(self, modality: str) -> torch.Tensor:
        """The noisy labels seen by ``modality`` (they differ only with per-modality noise)."""
        if modality == "text" and self.text_labels is not None:
            return self.text_labels
        return self.labels

    def subset(self, index: torch.Tensor) -> TrainData:
        text_labels = None if self.text_labels is None else self.text_labels[index]
        return TrainData(self.image[index], self.text[index], self.labels[index], self.noise_rate, text_labels,
                         self.extra)


@dataclass(frozen=True)
class Hyper:
    """A declared hyperparameter: default value, where it comes from, what it means.

    ``features_default`` (if not None) replaces ``default`` when the image input is
    precomputed features rather than raw images (documented per method).
    """

    default: Any
    source: str
    help: str = ""
    features_default: Any = None
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None  # None → inferred by check_hyper_value
    maximum: float | None = None


_SIZE_KEYS = ("batch_size", "_size", "hidden", "_dim", "_k")


def check_hyper_value(owner: str, key: str, hyper: Hyper, value: Any) -> Any:
    """Validate one coerced hyperparameter value against its declaration; returns it (ints as int).

    The value must have the default's type (a bool for a bool, an integral number for an int,
    a finite number for a float, a string for a string). Bounds: ``hyper.minimum`` /
    ``hyper.maximum`` when declared; otherwise a number whose default is ≥ 0 must be ≥ 0, and
    an integer size (``batch_size``, ``*_size``, ``*hidden``, ``*_dim``, ``*_k``) whose
    default is positive must be ≥ 1. ``None`` is allowed where the default is ``None``.
    """
    like = hyper.default if hyper.default is not None else hyper.features_default
    where = f"{owner}.{key}"
    if value is None:
        if hyper.default is None:
            return value
        raise ValueError(f"{where}: a value is required")
    if isinstance(like, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")  # noqa: TRY004
        return value
    if isinstance(like, (int, float)) and not isinstance(like, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: expected a number, got {value!r}")  # noqa: TRY004
        if not math.isfinite(value):
            raise ValueError(f"{where}: expected a finite number, got {value!r}")
        if isinstance(like, int) and not isinstance(like, bool):
            if value != int(value):
                raise ValueError(f"{where}: expected an integer, got {value!r}")
            value = int(value)
        low = hyper.minimum
        if low is None and like >= 0:
            low = 1 if isinstance(like, int) and like > 0 and key.endswith(_SIZE_KEYS) else 0
        if low is not None and value < low:
            raise ValueError(f"{where}: expected a value ≥ {low:g}, got {value!r}")
        if hyper.maximum is not None and value > hyper.maximum:
            raise ValueError(f"{where}: expected a value ≤ {hyper.maximum:g}, got {value!r}")
        return value
    if isinstance(like, str) and not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")  # noqa: TRY004
    return value


def coerce(value: Any, like: Any) -> Any:
    """Convert a CLI string (or number) to the type of the default ``like``."""
    if isinstance(value, str) and not isinstance(like, str):
        text = value.strip()
        if isinstance(like, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected a boolean, got '{value}'")
        if isinstance(like, int):
            f = float(text)
            if f != int(f):
                raise ValueError(f"expected an integer, got '{value}'")
            return int(f)
        if isinstance(like, float):
            return float(text)
        if like is None:
            for conv in (int, float):
                try:
                    return conv(text)
                except ValueError:
                    pass
            return None if text.lower() == "none" else text
        if isinstance(like, (tuple, list)):
            parts = [p for p in text.replace(";", ",").split(",") if p]
            return type(like)(coerce(p, like[0] if like else 0.0) for p in parts)
    if isinstance(like, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class Hasher(nn.Module):
    """Base class of all methods (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hyperparameters: ClassVar[dict[str, Hyper]] = {}
    supported_bits: ClassVar[str] = "any positive integer"
    default_epochs: ClassVar[int] = 50
    has_sample_losses: ClassVar[bool] = False

    def __init__(self, shape: ProblemShape, bits: int, *, device: str | torch.device = "cpu", seed: int = 0,
                 **hparams: Any):
        super().__init__()
        message = self.check_bits(bits)
        if message:
            raise ValueError(message)
        self.shape = shape
        self.bits = int(bits)
        self.device = torch.device(device)
        self.seed = int(seed)
        self.hp = self.resolve_hyperparameters(hparams, features_mode=not shape.image_is_raw)
        self.generator = torch.Generator().manual_seed(self.seed)

    # ------------------------------------------------------------------ declaration helpers
    @classmethod
    def check_bits(cls, bits: int) -> str | None:
        """An error message if ``bits`` is not supported, else None."""
        if int(bits) < 1:
            return f"{cls.name}: code length must be positive, got {bits}"
        return None

    @classmethod
    def defaults(cls, features_mode: bool = True) -> dict[str, Any]:
        return {k: (h.features_default if features_mode and h.features_default is not None else h.default)
                for k, h in cls.hyperparameters.items()}

    @classmethod
    def resolve_hyperparameters(cls, overrides: dict[str, Any], features_mode: bool = True) -> dict[str, Any]:
        """Defaults updated with ``overrides`` (coerced to the defaults' types); unknown keys raise."""
        hp = cls.defaults(features_mode)
        for key, value in overrides.items():
            if key not in cls.hyperparameters:
                raise ValueError(f"unknown hyperparameter '{key}' for method '{cls.name}'; "
                                 f"valid: {', '.join(cls.hyperparameters) or '(none)'}")
            try:
                value = coerce(value, cls.hyperparameters[key].default)
            except (ValueError, OverflowError, TypeError) as exc:
                raise ValueError(f"{cls.name}.{key}: {exc}") from None
            value = check_hyper_value(cls.name, key, cls.hyperparameters[key], value)
            choices = cls.hyperparameters[key].choices
            if choices is not None and value not in choices:
                raise ValueError(f"{cls.name}.{key}: expected one of {', '.join(map(str, choices))}, got {value!r}")
            hp[key] = value
        return hp

    # ------------------------------------------------------------------ training helpers
    def batches(self, n: int, batch_size: int, shuffle: bool = True, drop_last: bool = False
                ) -> Iterator[torch.Tensor]:
        """Index tensors (on the method's device) covering ``range(n)`` in mini-batches."""
        order = torch.randperm(n, generator=self.generator) if shuffle else torch.arange(n)
        order = order.to(self.device)
        stop = n - (n % batch_size) if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            yield order[start:start + batch_size]

    # ------------------------------------------------------------------ the interface
    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement fit_epoch")

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement continuous")

    def sample_losses(self, data: TrainData) -> np.ndarray | None:
        """Per-sample training losses (N,) at the current parameters, or None."""
        return None

    @torch.no_grad()
    def encode(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """±1 codes (int8, N×bits) for a batch of one modality."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        was_training = self.training
        self.eval()
        try:
            out = self.continuous(modality, x.to(self.device))
        finally:
            self.train(was_training)
        return to_codes(out)

    def encode_all(self, modality: str, x: torch.Tensor | np.ndarray, batch_size: int = 4096) -> torch.Tensor:
        """Encode a whole set in batches; returns an int8 tensor on the method's device."""
        n = x.shape[0]
        parts = []
        for start in range(0, n, batch_size):
            chunk = x[start:start + batch_size]
            if not isinstance(chunk, torch.Tensor):
                chunk = torch.as_tensor(np.asarray(chunk))
            parts.append(self.encode(modality, chunk))
        if not parts:
            return torch.empty((0, self.bits), dtype=torch.int8, device=self.device)
        return torch.cat(parts)

    def corrected_labels(self) -> np.ndarray | None:
        """Training labels after the method's own label correction (N×C), or None.

        Label-correcting methods (e.g. ``uot-rcl``) return their current labels so the
        runner can count corrupted samples fixed and clean samples broken per epoch.
        """
        return None

    def extra_state_for_store(self) -> dict[str, Any]:
        """Method-specific diagnostics to save with the run (JSON-serialisable)."""
        return {}


def to_codes(outputs: torch.Tensor) -> torch.Tensor:
    """The suite's binarisation: +1 where the output is ≥ 0, else −1 (int8)."""
    return torch.where(outputs >= 0, 1, -1).to(torch.int8)


def is_power_of_two(k: int) -> bool:
    return k >= 1 and (k & (k - 1)) == 0 and math.log2(k).is_integer()
