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
  into ±1 codes with the suite's rule (+1 where the output is ≥ 0).
* ``sample_losses(data)``: per-sample training losses (for the CMMQ paper's Figure 6);
  ``None`` when a method has no per-sample loss.
* Hyperparameters are declared in ``hyperparameters`` as :class:`Hyper` (default, source,
  meaning, optional features-mode default); ``supported_bits`` describes the valid code
  lengths and :meth:`check_bits` enforces them.
* Display metadata (``display_name``, ``order``, ``color``, ``marker``) is read by reports
  and plots through the method registry.
* Determinism: everything random inside a method derives from ``seed`` (``self.generator``
  for batch order; torch's global RNG is seeded by the runner for initialisation).

Training skeleton
-----------------
:meth:`Hasher.fit_epoch` is a template (in the spirit of pytorch-metric-learning's
``BaseMetricLossFunction``: the base class owns the plumbing, a method its formulas). Per
epoch it puts the module in training mode, calls :meth:`~Hasher.prepare` once (buffers,
input statistics), sets every optimiser's learning rate from the method's declared
:class:`~xbench.methods.schedules.Schedule` (:meth:`~Hasher.lr_schedule`, one function
:func:`~xbench.methods.schedules.learning_rate` for all methods) and logs it, then runs
:meth:`~Hasher.begin_epoch`, :meth:`~Hasher.train_epoch` and :meth:`~Hasher.end_epoch` with an
:class:`~xbench.methods.epoch_log.EpochLog` that averages the logged loss terms. The default
:meth:`~Hasher.train_epoch` is one pass of seeded mini-batches (:meth:`~Hasher.batches`) whose
loss :meth:`~Hasher.batch_loss` returns; :meth:`~Hasher.run_pass` zeroes, back-propagates,
steps and logs, and alternating methods (DCMH, PRDH, SSAH) call it once per step kind with
their own loss function and optimisers. :meth:`~Hasher.net` is the one modality → network
switch, :meth:`~Hasher.evaluating` the one eval-mode context, :meth:`~Hasher.sample_losses`
evaluates :meth:`~Hasher.per_sample_loss` over the training set in eval mode, and
:meth:`~Hasher.epoch_budget` reads the run's epoch budget (:attr:`TrainData.epochs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from .backbones import FROM_SCRATCH, FROM_SCRATCH_ANNEAL
from .epoch_log import EpochLog
from .hyper import Hyper, check_hyper_value, coerce
from .inputs import InputNormalisation
from .lazy_buffers import LazyBuffers
from .schedules import Schedule, learning_rate

MODALITIES = ("image", "text")
#: what a batch loss function returns: a dict whose "loss" is minimised (all entries logged), or
#: a pair (loss to minimise, logged terms)
BatchLoss = Mapping[str, Any] | tuple[torch.Tensor, Mapping[str, Any]]


@dataclass(frozen=True)
class ModalityShape:
    """Input of one modality: ``kind`` is features / images (image) or bow / features (text)."""

    kind: str
    dim: int | tuple[int, ...]
    backbone: str | None = None  # raw images: the dataset's preferred backbone (networks.resolve_backbone)


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

    @property
    def features_defaults(self) -> bool:
        """Whether methods take their features-mode defaults (``Hyper.features_default``).

        True unless a *pretrained* backbone is fine-tuned end to end: on precomputed features,
        and on raw images through a backbone trained from scratch (``small-cnn``,
        :data:`~xbench.methods.backbones.FROM_SCRATCH`), every network learns from scratch, as
        the features-mode heads do; the raw-image defaults (e.g. lr 1e-5) are the paper's
        fine-tuning settings of an ImageNet ResNet-18.
        """
        return not self.image_is_raw or self.image.backbone in FROM_SCRATCH


@dataclass
class TrainData:
    """The (noisy) training set handed to ``fit_epoch``; tensors live on the method's device."""

    image: torch.Tensor  # N×D float32 features or N×3×H×W uint8 images
    text: torch.Tensor  # N×T float32
    labels: torch.Tensor  # N×C float32 noisy multi-hot labels (shared by both modalities by default)
    noise_rate: float = 0.0  # the (known or assumed) noise rate ρ, for small-loss selection
    text_labels: torch.Tensor | None = None  # set only with --noise-per-modality (MRL setting)
    extra: dict[str, Any] = field(default_factory=dict)
    epochs: int | None = None  # the run's epoch budget (set by the runner; None: unknown)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def labels_of(self, modality: str) -> torch.Tensor:
        """The noisy labels seen by ``modality`` (they differ only with per-modality noise)."""
        if modality == "text" and self.text_labels is not None:
            return self.text_labels
        return self.labels

    def subset(self, index: torch.Tensor) -> TrainData:
        text_labels = None if self.text_labels is None else self.text_labels[index]
        return TrainData(
            self.image[index],
            self.text[index],
            self.labels[index],
            self.noise_rate,
            text_labels,
            self.extra,
            self.epochs,
        )


class Hasher(LazyBuffers):
    """Base class of all methods (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hyperparameters: ClassVar[dict[str, Hyper]] = {}
    supported_bits: ClassVar[str] = "any positive integer"
    default_epochs: ClassVar[int] = 50
    has_sample_losses: ClassVar[bool] = False
    accepts_raw_images: ClassVar[bool] = (
        True  # False: precomputed image features only (checked before training)
    )
    # display metadata, read by reports and plots through the registry
    display_name: ClassVar[str] = ""  # table/legend name ("" = ``name``)
    order: ClassVar[int] = 1000  # position in tables and legends (lower first)
    color: ClassVar[str | None] = None  # matplotlib colour (None: derived from the name)
    marker: ClassVar[str | None] = None  # matplotlib marker (None: derived from the name)
    sample_chunk: ClassVar[int] = 1024  # batch size of sample_losses / outputs_all
    #: why the method *as published* breaks the code-health thresholds (shown under the report's
    #: marker; docs/health.md); "" when it should not
    health_note: ClassVar[str] = ""
    #: input scaling (xbench.methods.inputs) when the method declares no ``input_norm`` hyperparameter
    input_norm: ClassVar[str] = "none"

    def __init__(
        self,
        shape: ProblemShape,
        bits: int,
        *,
        device: str | torch.device = "cpu",
        seed: int = 0,
        **hparams: Any,
    ):
        super().__init__()
        message = self.check_bits(bits) or self.check_problem(shape, bits)
        if message:
            raise ValueError(message)
        self.shape = shape
        self.bits = int(bits)
        self.device = torch.device(device)
        self.seed = int(seed)
        self.hp = self.resolve_hyperparameters(hparams, features_mode=shape.features_defaults)
        self.generator = torch.Generator().manual_seed(self.seed)
        self._optimizers: dict[str, torch.optim.Optimizer] | None = None
        self._prepared = False
        self.inputs = InputNormalisation(shape, str(self.hp.get("input_norm", self.input_norm)))

    # ------------------------------------------------------------------ declaration helpers
    @classmethod
    def check_bits(cls, bits: int) -> str | None:
        """An error message if ``bits`` is not supported, else None."""
        if int(bits) < 1:
            return f"{cls.name}: code length must be positive, got {bits}"
        return None

    @classmethod
    def check_problem(cls, shape: ProblemShape, bits: int) -> str | None:
        """An error message if the method cannot train ``bits`` on a problem of this shape, else None.

        Called by the constructor and, before any training, by ``xbench run``'s data checks.
        """
        return None

    @classmethod
    def defaults(cls, features_mode: bool = True) -> dict[str, Any]:
        return {
            k: (h.features_default if features_mode and h.features_default is not None else h.default)
            for k, h in cls.hyperparameters.items()
        }

    @classmethod
    def resolve_hyperparameters(cls, overrides: dict[str, Any], features_mode: bool = True) -> dict[str, Any]:
        """Defaults updated with ``overrides`` (coerced to the defaults' types); unknown keys raise."""
        hp = cls.defaults(features_mode)
        for key, value in overrides.items():
            if key not in cls.hyperparameters:
                raise ValueError(
                    f"unknown hyperparameter '{key}' for method '{cls.name}'; "
                    f"valid: {', '.join(cls.hyperparameters) or '(none)'}"
                )
            try:
                value = coerce(value, cls.hyperparameters[key].default)
            except (ValueError, OverflowError, TypeError) as exc:
                raise ValueError(f"{cls.name}.{key}: {exc}") from None
            value = check_hyper_value(cls.name, key, cls.hyperparameters[key], value)
            choices = cls.hyperparameters[key].choices
            if choices is not None and value not in choices:
                valid = ", ".join(map(str, choices))
                raise ValueError(f"{cls.name}.{key}: expected one of {valid}, got {value!r}")
            hp[key] = value
        return hp

    # ------------------------------------------------------------------ networks
    def net(self, modality: str) -> nn.Module:
        """The network of ``modality`` (the ``image_net`` / ``text_net`` attribute)."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        return getattr(self, f"{modality}_net")

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode inside the block; the previous train/eval mode is restored on exit."""
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)

    @torch.no_grad()
    def outputs_all(
        self,
        modality: str,
        x: torch.Tensor,
        chunk: int | None = None,
        fn: Callable[[str, torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``fn`` (default :meth:`continuous`) over a whole set in chunks, in eval mode."""
        fn = fn or self.continuous
        step = int(chunk or self.sample_chunk)
        with self.evaluating():
            return torch.cat([fn(modality, x[s : s + step]) for s in range(0, x.shape[0], step)])

    # ------------------------------------------------------------------ optimisers and schedule
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The method's optimisers by name (built once, on first use); none by default."""
        return {}

    @property
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        if self._optimizers is None:
            self._optimizers = self.make_optimizers()
            for opt in self._optimizers.values():
                for group in opt.param_groups:
                    group.setdefault("base_lr", group["lr"])
        return self._optimizers

    def step(self, loss: torch.Tensor, names: Iterable[str] | None = None) -> None:
        """Zero the gradients of the named optimisers (default: all), back-propagate ``loss``, step them."""
        opts = [self.optimizers[k] for k in (self.optimizers if names is None else names)]
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in opts:
            opt.step()

    def lr_schedule(self) -> Schedule:
        """The method's learning-rate schedule (constant by default)."""
        return Schedule()

    def epoch_budget(self, data: TrainData, override: int = 0) -> int:
        """``override`` if positive, else the run's budget (``data.epochs``), else ``default_epochs``."""
        return int(override) or int(data.epochs or 0) or int(self.default_epochs)

    def apply_lr_schedule(self, data: TrainData, epoch: int) -> dict[str, float]:
        """Set every parameter group's rate for ``epoch``; the logged rates (``lr`` or ``lr_<optimiser>``)."""
        schedule = self.lr_schedule()
        total = self.epoch_budget(data, schedule.epochs)
        factor = self.from_scratch_factor(data, epoch)
        logged: dict[str, float] = {}
        for key, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = factor * learning_rate(schedule, group["base_lr"], epoch, total)
            logged[key] = opt.param_groups[0]["lr"]
        if len(logged) == 1:
            return {"lr": next(iter(logged.values()))}
        return {f"lr_{key}": value for key, value in logged.items()}

    def from_scratch_factor(self, data: TrainData, epoch: int) -> float:
        """1, or with raw images through a backbone trained from scratch (``small-cnn``) the factor
        of :data:`~xbench.methods.backbones.FROM_SCRATCH_ANNEAL` at ``epoch`` of the run's budget:
        one setting of the raw-image path for every method (docs/synthetic-images.md)."""
        if not (self.shape.image_is_raw and self.shape.image.backbone in FROM_SCRATCH):
            return 1.0
        return learning_rate(Schedule(FROM_SCRATCH_ANNEAL), 1.0, epoch, self.epoch_budget(data))

    # ------------------------------------------------------------------ batching
    def batches(
        self, n: int, batch_size: int, shuffle: bool = True, drop_last: bool = False
    ) -> Iterator[torch.Tensor]:
        """Index tensors (on the method's device) covering ``range(n)`` in mini-batches (seeded order)."""
        order = torch.randperm(n, generator=self.generator) if shuffle else torch.arange(n)
        order = order.to(self.device)
        stop = n - (n % batch_size) if drop_last and n >= batch_size else n
        for start in range(0, stop, batch_size):
            yield order[start : start + batch_size]

    def batch_size(self) -> int:
        return int(self.hp["batch_size"])

    def min_batch_size(self) -> int:
        """Smaller mini-batches are skipped (e.g. 2 where BatchNorm or within-batch pairs need it)."""
        return 1

    # ------------------------------------------------------------------ the epoch template
    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        """One epoch: prepare (first call), learning rates, then the begin / train / end hooks."""
        self.train()
        if not self._prepared:
            self.inputs.fit(data)  # input scaling: train-split statistics, once
            self.prepare(data)
            self._prepared = True
        log = EpochLog(self.log_names())
        log.update(self.apply_lr_schedule(data, epoch))
        context = self.begin_epoch(data, epoch, log)
        self.train_epoch(data, epoch, log, context)
        self.end_epoch(data, epoch, log, context)
        return log.means()

    def log_names(self) -> tuple[str, ...]:
        """Names always present in the epoch log (0.0 when nothing was reported)."""
        return ("loss",)

    def prepare(self, data: TrainData) -> None:
        """First ``fit_epoch`` call only: buffers over the training set, input statistics."""

    def begin_epoch(self, data: TrainData, epoch: int, log: EpochLog) -> Any:
        """Before the epoch's passes; returns a context handed to ``batch_loss``/``end_epoch``."""
        return None

    def train_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """Default: one pass of shuffled mini-batches minimising :meth:`batch_loss` with every optimiser."""
        self.run_pass(
            self.batches(len(data), self.batch_size()), lambda idx: self.batch_loss(data, idx, context), log
        )

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        """After the epoch's passes (e.g. a code update); may log more values."""

    def batch_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> BatchLoss:
        """The loss of mini-batch ``idx``: a dict whose ``"loss"`` is minimised (every entry is logged),
        or a pair ``(loss, logged terms)``. Logged values may be ``(total, weight)`` pairs."""
        raise NotImplementedError(f"{type(self).__name__} must implement batch_loss (or train_epoch)")

    def run_pass(
        self,
        batches: Iterable[torch.Tensor],
        loss_fn: Callable[[torch.Tensor], BatchLoss],
        log: EpochLog,
        optimizers: Iterable[str] | None = None,
        suffix: str = "",
    ) -> None:
        """For each batch (of at least :meth:`min_batch_size`): loss, zero, backward, step, log."""
        names = None if optimizers is None else tuple(optimizers)
        for idx in batches:
            if len(idx) < self.min_batch_size():
                continue
            out = loss_fn(idx)
            loss, logged = (out["loss"], out) if isinstance(out, Mapping) else out
            self.step(loss, names)
            log.add_terms(logged, suffix)

    # ------------------------------------------------------------------ per-sample losses
    def sample_loss_context(self, data: TrainData) -> Any:
        """Computed once per :meth:`sample_losses` call (eval mode, no grad), e.g. all outputs."""
        return None

    def per_sample_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> torch.Tensor:
        """The training loss of each item of ``idx`` (len(idx),) at the current parameters."""
        raise NotImplementedError(f"{type(self).__name__} declares has_sample_losses but no per_sample_loss")

    def sample_losses(self, data: TrainData) -> np.ndarray | None:
        """Per-sample training losses (N,) at the current parameters (eval mode), or None."""
        if not self.has_sample_losses:
            return None
        with self.evaluating(), torch.no_grad():
            context = self.sample_loss_context(data)
            parts = [
                self.per_sample_loss(data, idx, context).float().cpu()
                for idx in self.batches(len(data), self.sample_chunk, shuffle=False)
            ]
        return torch.cat(parts).numpy() if parts else np.zeros(0, dtype=np.float32)

    # ------------------------------------------------------------------ the interface
    def scaled(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """``x`` after the method's input scaling (:attr:`inputs`; identity with ``input_norm`` none)."""
        return self.inputs(modality, x)

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """Real-valued outputs (N×K); by default the modality's network applied to the scaled ``x``."""
        return self.net(modality)(self.scaled(modality, x))

    @torch.no_grad()
    def encode(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        """±1 codes (int8, N×bits) for a batch of one modality."""
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        with self.evaluating():
            out = self.continuous(modality, x.to(self.device))
        return to_codes(out)

    def encode_all(self, modality: str, x: torch.Tensor | np.ndarray, batch_size: int = 4096) -> torch.Tensor:
        """Encode a whole set in batches; returns an int8 tensor on the method's device."""
        n = x.shape[0]
        parts = []
        for start in range(0, n, batch_size):
            chunk = x[start : start + batch_size]
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

    def selected_samples(self) -> np.ndarray | torch.Tensor | None:
        """Training indices (or an N-long boolean mask) of the samples the last ``fit_epoch``
        selected, or None for methods that do not select.

        Sample-selecting methods (small-loss selection, samples chosen by a transport plan)
        return them so the runner can score the selection against the clean labels, which
        methods never see (precision/recall of uncorrupted samples per epoch).
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
