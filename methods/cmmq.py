"""``cmmq``: Cross-Modal Mutual Quantization (Yang, Yao, Liu, Deng, CVPR 2022), as in the paper.

Source: ../shared/papers/003_b3f79eb70ae8a9fd.txt §3–4; ../shared/reference/methods.md §7
("CMMQ", "Paper vs official code") and §6 ("CSQ hash centres").

Model
-----
* Networks (the paper's fair-comparison setting, §4.2; :mod:`xbench.methods.networks`):
  image = ResNet-18 (ImageNet weights) with its last layer replaced by FC(K) + tanh on raw
  images, or the same FC(K) + tanh head on precomputed backbone features (a frozen
  backbone); text = three-layer MLP T → h → h → K with ReLU and a tanh output, h =
  ⌈(T+K)/2⌉ (the release's width heuristic; the paper gives no widths [R]).
* Proxy codes (§3.2, :mod:`.proxies`): rows of the Sylvester Hadamard matrix H_K for C ≤ K,
  of [H_K; −H_K] for K < C ≤ 2K, plus balanced random rows beyond that [R]; each training
  item's target is the per-bit majority vote of its (noisy) labels' proxies, ties broken by
  one fixed random ±1 vector drawn from the run's seed.
* Per-sample joint loss (Eqs. 3, 6–8, :mod:`.quantization`), for image output b and text
  output c with target o:
      L_a = Σ_{b,c} [β · BCE((1+·)/2, o) + α · Σ_k(|·_k| − 1)²] + λ · symKL(b, c)
  α = 1e-4, β = 1, λ = 0.7. The squared quantization term replaces the printed Σ(|b|−1)
  (a slip, see :func:`~.quantization.quantization_penalty`; ``quant=linear`` restores it).
* Small-loss selection (Eq. 5, :mod:`.selection`): in each mini-batch keep the ⌈R(t)·n⌉
  samples with the smallest L_a, R(t) = 1 − min(t/T_k · ρ, ρ), T_k = 10, t the epochs
  completed; both networks take one RMSprop step on the mean L_a of that subset (Eq. 9).
  ρ is the noise rate the runner passes: the true rate, as the paper assumes ("Following
  [15], we assume that the noise rate ρ is known"), or ``--assumed-noise-rate``; the
  ``noise_rate`` hyperparameter overrides both. Knowing ρ is oracle information; with the
  rate unknown, pass an estimate (the paper suggests inferring it on a validation set).
* Optimiser (§4.2): RMSprop, lr 1e-5, weight decay 1e-5, batch 128, for both networks.

Features-mode default
---------------------
The paper's lr 1e-5 is an end-to-end fine-tuning rate. On precomputed features only the
FC head and the text MLP learn, and at 1e-5 they barely move (after 30 epochs, 64 bits:
mAP 0.579 / 0.594 on ``synthetic``, the LSH floor; 0.137 / 0.114 on Wikipedia, chance), so
features input uses lr = 1e-3: on ``synthetic`` test mAP plateaus after ≈ 30 epochs
(0.811 / 0.798), on the SVCL Wikipedia features (rows summing to 1, so small steps) it
reaches 0.202 / 0.182 after the default 100 epochs, within ≈ 0.01 of what 3e-3–1e-2 reach;
3e-3 saturates the tanh outputs on ``synthetic`` in the first epochs. Raw images keep 1e-5.

Deviations / readings (switchable unless said otherwise)
--------------------------------------------------------
* ``kl_reduction``: the per-sample MQ term is *averaged* over the K bits (default) — the
  1/K normalisation of the BCE inside S (Eq. 2) and of the release's unused ``KLLoss``, so
  that λ = 0.7 weighs comparable quantities. Eq. (7) prints a sum over bits
  (``kl_reduction=sum``): per bit that outweighs the PC loss K-fold, and measured on
  ``synthetic`` (64 bits, features, lr 1e-3, 30 epochs, no noise) the networks then settle
  on agreeing with each other rather than with the proxies — PC loss 1.32, close to the
  2·log 2 ≈ 1.39 of all-zero outputs, and mAP 0.586 / 0.576 (I→T / T→I), at the LSH floor
  (0.577 / 0.574) — against 0.811 / 0.798 with the mean.
* ``quant``: ``square`` (default) or ``linear`` (the printed R(b)).
* The selection keeps ⌈R(t)·n⌉ (Eq. 5's |D'| ≥ R(t)|D|); the release keeps ⌊R(t)·n⌋ (not a
  hyperparameter: the class attribute ``keep_rounding``).
* On raw images a trailing mini-batch of a single sample is skipped (BatchNorm cannot train
  on one sample).
"""
from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch

from . import register
from .base import Hasher, Hyper, ProblemShape, TrainData
from .networks import ImageNet, TextNet
from .proxies import (
    ProxyCodes,
    count_ties,
    hadamard_proxies,
    is_power_of_two,
    majority_vote,
    tie_vector,
)
from .quantization import QUANT_KINDS, proxy_bce, quantization_penalty, symmetric_kl
from .selection import keep_ratio, num_kept, small_loss_indices

PAPER = "Yang, Yao, Liu, Deng, CVPR 2022 (Mutual Quantization for Cross-Modal Search with Noisy Labels)"
FEATURES_LR = 1e-3


def network_hypers() -> dict[str, Hyper]:
    """Hyperparameters shared by every proxy-based method (optimiser, networks)."""
    return {
        "lr": Hyper(1e-5, "paper §4.2 (end-to-end); features mode: xbench, validated on synthetic + Wikipedia",
                    "RMSprop learning rate of both networks", features_default=FEATURES_LR),
        "weight_decay": Hyper(1e-5, "paper §4.2", "RMSprop weight decay"),
        "batch_size": Hyper(128, "paper §4.2", "mini-batch size"),
        "text_hidden": Hyper(None, "release heuristic ⌈(T+K)/2⌉ (methods.md §7.2) [R]",
                             "hidden width of the text MLP (None: ⌈(T+K)/2⌉)"),
        "backbone_weights": Hyper("imagenet", "paper §4.2 (ImageNet-pretrained ResNet-18)",
                                  "ResNet-18 weights for raw images: imagenet, none, or a checkpoint path"),
    }


class ProxyHasher(Hasher):
    """Shared machinery of ``bce``, ``cmmq`` and ``cmmq-code``: two networks trained towards
    per-item Hadamard proxy codes, optionally on the small-loss part of each mini-batch.

    Subclasses set the hyperparameters and override the hooks :meth:`build_networks`,
    :meth:`build_proxies`, :meth:`assign_targets`, :meth:`outputs`, :meth:`losses` and
    :meth:`keep_ratio_at`.
    """

    paper = PAPER
    supported_bits = "powers of two (the proxies are rows of a Sylvester Hadamard matrix): 16, 32, 64, 128, …"
    default_epochs = 100
    has_sample_losses = True
    keep_rounding = "ceil"
    proxy_keep = "best"  # which random proxy draw to keep when the CSQ criteria are never met
    proxy_tries = 100
    selects_samples = True  # report the small-loss selection (Hasher.selected_samples); bce: False

    def __init__(self, shape: ProblemShape, bits: int, **kwargs: Any):
        super().__init__(shape, bits, **kwargs)
        self.image_net, self.text_net = self.build_networks()
        proxies = self.build_proxies()
        if not proxies.criteria_met:
            warnings.warn(f"{self.name}: {shape.num_classes} classes at {bits} bits: no random proxy draw "
                          f"reached the CSQ distance criteria (min > K/4, mean ≥ K/2); using the "
                          f"{self.proxy_keep} draw (min distance {proxies.min_distance})", RuntimeWarning,
                          stacklevel=2)
        self.proxy_info: ProxyCodes = proxies
        self.register_buffer("proxies", proxies.codes.clone())
        tie_gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 17)
        self.register_buffer("tie", tie_vector(bits, tie_gen))
        self.optimizer: torch.optim.Optimizer | None = None
        self._diagnostics: dict[str, Any] = {}
        self._kept: list[torch.Tensor] = []

    # ------------------------------------------------------------------ declarations
    @classmethod
    def check_bits(cls, bits: int) -> str | None:
        message = super().check_bits(bits)
        if message:
            return message
        if not is_power_of_two(int(bits)):
            return (f"{cls.name}: code length must be a power of two (its proxy codes are rows of a "
                    f"Sylvester Hadamard matrix), got {bits}; use e.g. 32, 64 or 128")
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
        errors = []
        if not isinstance(hp["batch_size"], int) or hp["batch_size"] < 1:
            errors.append(f"batch_size: expected a positive integer, got {hp['batch_size']!r}")
        for key in ("lr", "weight_decay"):
            if not isinstance(hp[key], (int, float)) or not hp[key] >= 0:
                errors.append(f"{key}: expected a non-negative number, got {hp[key]!r}")
        rate = hp.get("noise_rate")
        if rate is not None and (not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0):
            errors.append(f"noise_rate: expected a rate in [0, 1) or None, got {rate!r}")
        if "t_k" in hp and (not isinstance(hp["t_k"], (int, float)) or not hp["t_k"] > 0):
            errors.append(f"t_k: expected a positive number of epochs, got {hp['t_k']!r}")
        if "num_gradual" in hp and hp["num_gradual"] < 0:
            errors.append(f"num_gradual: expected a non-negative integer, got {hp['num_gradual']!r}")
        return errors

    # ------------------------------------------------------------------ hooks
    def build_networks(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        """Image and text networks (paper §4.2: tanh outputs)."""
        image = ImageNet(self.shape.image, self.bits, out_activation="tanh",
                         weights=self.hp["backbone_weights"])
        text = TextNet(int(self.shape.text.dim), self.bits, hidden=self.hp["text_hidden"],
                       out_activation="tanh")
        return image, text

    def build_proxies(self) -> ProxyCodes:
        rng = np.random.default_rng([self.seed, 0xC55])
        return hadamard_proxies(self.shape.num_classes, self.bits, rng, max_tries=self.proxy_tries,
                                keep=self.proxy_keep)

    def assign_targets(self, labels: torch.Tensor) -> torch.Tensor:
        """±1 target code of each item (N×K) from its noisy multi-hot labels."""
        return majority_vote(labels, self.proxies, self.tie)

    def outputs(self, modality: str, x: torch.Tensor, train: bool) -> torch.Tensor:
        """The tanh outputs the losses see."""
        net = self.image_net if modality == "image" else self.text_net
        return net(x)

    def losses(self, b_image: torch.Tensor, b_text: torch.Tensor, o_image: torch.Tensor, o_text: torch.Tensor
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

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = [p for net in (self.image_net, self.text_net) for p in net.parameters() if p.requires_grad]
        return torch.optim.RMSprop(params, lr=float(self.hp["lr"]),
                                   weight_decay=float(self.hp["weight_decay"]))

    # ------------------------------------------------------------------ the interface
    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        if self.optimizer is None:
            self.optimizer = self._make_optimizer()
        rho = self.noise_rate_used(data)
        ratio = self.keep_ratio_at(epoch, rho)
        o_image, o_text = self._targets(data)
        n = len(data)
        sums: dict[str, float] = {}
        objective, batches, kept, seen = 0.0, 0, 0, 0
        self._kept = []
        for idx in self.batches(n, int(self.hp["batch_size"])):
            if self.shape.image_is_raw and len(idx) < 2:
                continue  # BatchNorm cannot train on a single sample
            b_image = self.outputs("image", data.image[idx], train=True)
            b_text = self.outputs("text", data.text[idx], train=True)
            terms = self.losses(b_image, b_text, o_image[idx], o_text[idx])
            joint = terms["joint"]
            k = num_kept(len(idx), ratio, self.keep_rounding)
            keep = small_loss_indices(joint.detach(), k)
            self._kept.append(idx[keep].detach().cpu())
            loss = joint[keep].mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            objective += float(loss.detach())
            batches += 1
            kept += k
            seen += len(idx)
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + float(value.detach().sum())
        logged = {"loss": objective / max(batches, 1), "keep_ratio": float(ratio),
                  "kept_fraction": kept / max(seen, 1), "noise_rate_used": rho}
        logged.update({f"{key}_loss": value / max(seen, 1) for key, value in sums.items() if key != "joint"})
        self._diagnostics = {"tie_bits_image": count_ties(data.labels_of("image"), self.proxies),
                             "noise_rate_used": rho}
        return logged

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(modality, x, train=False)

    def selected_samples(self) -> torch.Tensor | None:
        """The training indices the small-loss selection kept over the last epoch's batches."""
        if not self.selects_samples or not self._kept:
            return None
        return torch.cat(self._kept)

    @torch.no_grad()
    def sample_losses(self, data: TrainData) -> np.ndarray:
        """The joint per-sample loss L_a of every training item at the current parameters (eval mode).

        Computed as training computes it: in random mini-batches of the training ``batch_size``
        (an in-batch term such as ``cmmq-code``'s InfoNCE MQ loss depends on the batch), drawn
        from a generator of their own so that saving losses leaves the training order unchanged.
        """
        was_training = self.training
        self.eval()
        n = len(data)
        out = torch.zeros(n, dtype=torch.float32)
        try:
            o_image, o_text = self._targets(data)
            order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed * 7919 + 1)).to(self.device)
            step = int(self.hp["batch_size"])
            for start in range(0, n, step):
                idx = order[start:start + step]
                b_image = self.outputs("image", data.image[idx], train=False)
                b_text = self.outputs("text", data.text[idx], train=False)
                out[idx.cpu()] = self.losses(b_image, b_text, o_image[idx], o_text[idx])["joint"].float().cpu()
        finally:
            self.train(was_training)
        return out.numpy()

    def extra_state_for_store(self) -> dict[str, Any]:
        return {"proxies": self.proxy_info.summary(), **self._diagnostics}


def pc_loss(b: torch.Tensor, o: torch.Tensor, alpha: float, beta: float, quant: str) -> torch.Tensor:
    """Per-sample PC loss of one modality: β · BCE((1+b)/2, (1+o)/2) + α · R(b) (paper Eq. 3)."""
    return beta * proxy_bce(b, o) + alpha * quantization_penalty(b, quant)


def pc_hypers() -> dict[str, Hyper]:
    return {
        "alpha": Hyper(1e-4, "paper §4.2", "weight α of the quantization term R(b)"),
        "beta": Hyper(1.0, "paper §4.2", "scale β of the proxy BCE (δ(x) = exp(−βx))"),
        "quant": Hyper("square", "paper Eq. 3 read as DCMH's squared term (printed form is a slip)",
                       "quantization term: square Σ(|b|−1)² or linear Σ(|b|−1) (as printed)",
                       choices=QUANT_KINDS),
    }


@register
class CMMQ(ProxyHasher):
    """The paper's CMMQ: proxy BCE + quantization + λ·symmetric-KL mutual quantization,
    small-loss selection with R(t) (see the module docstring)."""

    name = "cmmq"
    description = ("Hadamard proxy BCE + symmetric-KL mutual quantization, small-loss selection "
                   "R(t) = 1 − min(tρ/T_k, ρ) (paper version)")
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        **network_hypers(),
        **pc_hypers(),
        "mq_weight": Hyper(0.7, "paper §4.2 and Fig. 7 (λ)", "weight λ of the mutual quantization loss"),
        "kl_reduction": Hyper("mean", "xbench reading (Eq. 7 sums over bits; see the module docstring)",
                              "per-sample MQ loss: mean or sum over bits", choices=("mean", "sum")),
        "t_k": Hyper(10.0, "paper §4.2", "epochs T_k over which the drop rate ramps up to ρ"),
        "noise_rate": Hyper(None, "paper §4.2 (ρ known)",
                            "ρ for R(t); None: the rate the runner passes (true or --assumed-noise-rate)"),
    }

    def losses(self, b_image, b_text, o_image, o_text):
        hp = self.hp
        pc = (pc_loss(b_image, o_image, hp["alpha"], hp["beta"], hp["quant"])
              + pc_loss(b_text, o_text, hp["alpha"], hp["beta"], hp["quant"]))
        terms = {"pc": pc}
        if hp["mq_weight"]:
            mq = symmetric_kl(b_image, b_text, reduction=hp["kl_reduction"])
            terms["mq"] = mq
            terms["joint"] = pc + hp["mq_weight"] * mq
        else:
            terms["joint"] = pc
        return terms

    def keep_ratio_at(self, epoch: int, rho: float) -> float:
        return keep_ratio(epoch, rho, float(self.hp["t_k"]))


__all__ = ["CMMQ", "FEATURES_LR", "ProxyHasher", "network_hypers", "pc_hypers", "pc_loss"]
