"""The training procedure shared by ``bce``, ``cmmq`` and ``cmmq-code``: two networks trained
towards per-item Hadamard proxy codes, on the small-loss part of each mini-batch.

Sources: CMMQ paper (Yang, Yao, Liu, Deng, CVPR 2022) §3–4: proxy codes (§3.2), the PC loss
(Eq. 3), small-loss selection R(t) (Eq. 5) and the joint step of both networks (Eq. 9);
optimiser and networks of §4.2. The method classes supply their per-sample loss terms
(:meth:`ProxyHasher.losses`) and keep-ratio schedule (:meth:`ProxyHasher.keep_ratio_at`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .base import Hasher, ProblemShape, TrainData
from .epoch_log import EpochLog
from .networks import ImageNet, TextNet
from .proxies import ProxyCodes, count_ties, hadamard_proxies, is_power_of_two, majority_vote, tie_vector
from .proxy_hypers import (
    FEATURES_LR,
    PAPER,
    network_hypers,
    pc_hypers,
)
from .quantization import proxy_bce, quantization_penalty
from .selection import num_kept, small_loss_indices


def pc_loss(b: torch.Tensor, o: torch.Tensor, alpha: float, beta: float, quant: str) -> torch.Tensor:
    """Per-sample PC loss of one modality: β · BCE((1+b)/2, (1+o)/2) + α · R(b) (paper Eq. 3)."""
    return beta * proxy_bce(b, o) + alpha * quantization_penalty(b, quant)


class ProxyHasher(Hasher):
    """Proxy-code hashing with small-loss selection (see the module docstring).

    Subclasses set the hyperparameters and override the hooks :meth:`build_networks`,
    :meth:`build_proxies`, :meth:`assign_targets`, :meth:`outputs`, :meth:`losses` and
    :meth:`keep_ratio_at`.
    """

    paper = PAPER
    supported_bits = "powers of two (the proxies are rows of a Sylvester Hadamard matrix): 16, 32, 64, 128, …"
    default_epochs = 100
    has_sample_losses = True
    selects_samples = True  # report the small-loss selection (Hasher.selected_samples); bce: False

    def __init__(self, shape: ProblemShape, bits: int, **kwargs: Any):
        super().__init__(shape, bits, **kwargs)
        self.image_net, self.text_net = self.build_networks()
        proxies = self.build_proxies()
        if not proxies.criteria_met:
            warnings.warn(
                f"{self.name}: {shape.num_classes} classes at {bits} bits: no random proxy draw "
                f"reached the CSQ distance criteria (min > K/4, mean ≥ K/2); using the "
                f"{self.hp['proxy_keep']} draw (min distance {proxies.min_distance})",
                RuntimeWarning,
                stacklevel=2,
            )
        self.proxy_info: ProxyCodes = proxies
        self.register_buffer("proxies", proxies.codes.clone())
        tie_gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 17)
        self.register_buffer("tie", tie_vector(bits, tie_gen))
        self._diagnostics: dict[str, Any] = {}
        self._kept: list[torch.Tensor] = []

    # ------------------------------------------------------------------ declarations
    @classmethod
    def check_bits(cls, bits: int) -> str | None:
        message = super().check_bits(bits)
        if message:
            return message
        if not is_power_of_two(int(bits)):
            return (
                f"{cls.name}: code length must be a power of two (its proxy codes are rows of a "
                f"Sylvester Hadamard matrix), got {bits}; use e.g. 32, 64 or 128"
            )
        return None

    @classmethod
    def resolve_hyperparameters(cls, overrides: dict[str, Any], features_mode: bool = True) -> dict[str, Any]:
        """As :meth:`Hasher.resolve_hyperparameters`, plus range checks (so a grid fails before training)."""
        hp = super().resolve_hyperparameters(overrides, features_mode)
        for error in cls.check_values(hp):
            raise ValueError(f"{cls.name}.{error}")
        return hp

    @classmethod
    def check_values(cls, hp: dict[str, Any]) -> list[str]:
        """Messages ("key: what was expected") for out-of-range hyperparameter values."""
        errors = []  # sizes and signs are checked from the declarations (check_hyper_value)
        rate = hp.get("noise_rate")
        if rate is not None and (not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0):
            errors.append(f"noise_rate: expected a rate in [0, 1) or None, got {rate!r}")
        if "t_k" in hp and (not isinstance(hp["t_k"], (int, float)) or not hp["t_k"] > 0):
            errors.append(f"t_k: expected a positive number of epochs, got {hp['t_k']!r}")
        return errors

    # ------------------------------------------------------------------ hooks
    def build_networks(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        """Image and text networks (paper §4.2: tanh outputs)."""
        image = ImageNet(
            self.shape.image, self.bits, out_activation="tanh", weights=self.hp["backbone_weights"]
        )
        text = TextNet(
            int(self.shape.text.dim), self.bits, hidden=self.hp["text_hidden"], out_activation="tanh"
        )
        return image, text

    def build_proxies(self) -> ProxyCodes:
        rng = np.random.default_rng([self.seed, 0xC55])
        return hadamard_proxies(
            self.shape.num_classes,
            self.bits,
            rng,
            max_tries=self.hp["proxy_tries"],
            keep=self.hp["proxy_keep"],
        )

    def assign_targets(self, labels: torch.Tensor) -> torch.Tensor:
        """±1 target code of each item (N×K) from its noisy multi-hot labels."""
        return majority_vote(labels, self.proxies, self.tie)

    def outputs(self, modality: str, x: torch.Tensor, train: bool) -> torch.Tensor:
        """The tanh outputs the losses see (of the scaled input: :mod:`xbench.methods.inputs`)."""
        return self.net(modality)(self.scaled(modality, x))

    def losses(
        self, b_image: torch.Tensor, b_text: torch.Tensor, o_image: torch.Tensor, o_text: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Per-sample loss terms; ``"joint"`` ranks the samples and is optimised."""
        raise NotImplementedError

    def keep_ratio_at(self, epoch: int, rho: float) -> float:
        return 1.0

    # ------------------------------------------------------------------ helpers
    def noise_rate_used(self, data: TrainData) -> float:
        rate = self.hp.get("noise_rate")
        return float(data.noise_rate if rate is None else rate)

    def _targets(self, data: TrainData) -> tuple[torch.Tensor, torch.Tensor]:
        o_image = self.assign_targets(data.labels_of("image"))
        o_text = o_image if data.text_labels is None else self.assign_targets(data.labels_of("text"))
        return o_image, o_text

    def _terms(
        self, data: TrainData, idx: torch.Tensor, targets: tuple[torch.Tensor, torch.Tensor], train: bool
    ) -> dict[str, torch.Tensor]:
        b_image = self.outputs("image", data.image[idx], train=train)
        b_text = self.outputs("text", data.text[idx], train=train)
        return self.losses(b_image, b_text, targets[0][idx], targets[1][idx])

    # ------------------------------------------------------------------ the skeleton's hooks
    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        params = [p for net in (self.image_net, self.text_net) for p in net.parameters() if p.requires_grad]
        return {
            "main": torch.optim.RMSprop(
                params, lr=float(self.hp["lr"]), weight_decay=float(self.hp["weight_decay"])
            )
        }

    def min_batch_size(self) -> int:
        return 2 if self.shape.image_is_raw else 1  # BatchNorm cannot train on a single sample

    @property
    def sample_chunk(self) -> int:  # type: ignore[override]
        """Per-sample losses in mini-batches of the training ``batch_size``, as training computes them
        (an in-batch term such as ``cmmq-code``'s InfoNCE MQ loss depends on the batch)."""
        return int(self.hp["batch_size"])

    def begin_epoch(self, data: TrainData, epoch: int, log: EpochLog) -> Any:
        rho = self.noise_rate_used(data)
        ratio = self.keep_ratio_at(epoch, rho)
        log.update({"keep_ratio": float(ratio), "noise_rate_used": rho})
        self._kept = []
        return ratio, self._targets(data)

    def batch_loss(self, data: TrainData, idx: torch.Tensor, context: Any):
        ratio, targets = context
        terms = self._terms(data, idx, targets, train=True)
        joint = terms["joint"]
        k = num_kept(len(idx), ratio, self.hp.get("keep_rounding", "ceil"))  # bce keeps all: no rounding
        keep = small_loss_indices(joint.detach(), k)
        self._kept.append(idx[keep].detach().cpu())
        loss = joint[keep].mean()
        logged: dict[str, Any] = {"loss": loss, "kept_fraction": (k, len(idx))}
        logged.update(
            {
                f"{key}_loss": (value.detach().sum(), len(idx))
                for key, value in terms.items()
                if key != "joint"
            }
        )
        return loss, logged

    def end_epoch(self, data: TrainData, epoch: int, log: EpochLog, context: Any) -> None:
        self._diagnostics = {
            "tie_bits_image": count_ties(data.labels_of("image"), self.proxies),
            "noise_rate_used": self.noise_rate_used(data),
        }

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(modality, x, train=False)

    def selected_samples(self) -> torch.Tensor | None:
        """The training indices the small-loss selection kept over the last epoch's batches."""
        if not self.selects_samples or not self._kept:
            return None
        return torch.cat(self._kept)

    def sample_loss_context(self, data: TrainData) -> Any:
        return self._targets(data)

    def per_sample_loss(self, data: TrainData, idx: torch.Tensor, context: Any) -> torch.Tensor:
        """The joint per-sample loss L_a (what the selection ranks)."""
        return self._terms(data, idx, context, train=False)["joint"]

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"proxies": self.proxy_info.summary(), **self._diagnostics}


__all__ = [
    "FEATURES_LR",
    "PAPER",
    "ProxyHasher",
    "network_hypers",
    "pc_hypers",
    "pc_loss",
]
