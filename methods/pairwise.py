"""Pieces shared by the pairwise baselines ``dcmh``, ``prdh`` and ``cmhh``.

Loss functions (pure functions of tensors, tested against hand-written formulas):

* :func:`similarity` — S_ij = [l_i·l_j > 0] from multi-hot labels (DCMH ``calc_neighbor``;
  ../shared/reference/methods.md §1).
* :func:`pairwise_nll` — the negative log-likelihood of S under σ(Θ_ij), element-wise
  log(1 + e^Θ) − S·Θ, with Θ = ½ uᵀv (:func:`theta`), DCMH Eq. (2) / ``calc_loss``.
* :func:`quantization_loss`, :func:`balance_loss` — ‖B − F‖²_F and ‖F·1‖² of DCMH.
* :func:`decorrelation_loss` — ½(‖C‖²_F − ‖diag C‖²) of the covariance C of the code bits
  (PRDH, methods.md §2 [R]); a *correct* one: the torchcmh re-implementation builds C from
  mean(h − μ), which is identically zero, so its term never acts.
* :func:`continuous_hamming`, :func:`class_balanced_weights`,
  :func:`exponential_focal_loss`, :func:`exponential_quantization_loss` — CMHH's
  exponential-distribution focal loss on a continuous Hamming distance with class-balanced
  pair weights and its quantization term (methods.md §4; reconstruction [R]).

Training skeleton:

* :class:`SharedCodeHasher` — the DCMH training procedure shared by ``dcmh`` and ``prdh``:
  per-modality output buffers F, G (n×K, row layout) built lazily on the first
  ``fit_epoch`` call; within an epoch the image network runs ⌈n/bs⌉ batches with G and B
  fixed, then the text network with F and B fixed, each batch's loss computed between the
  batch and **all n** training items through the other modality's (stale) buffer; then
  B = sign(F + G) (methods.md §1). Subclasses supply the per-batch loss and the full
  objective.

Row layout: everywhere here F, G, B are n×K (one row per item); the papers write K×n.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as nnf
from torch import nn

from .base import Hasher, Hyper, TrainData
from .networks import ImageNet, TextNet

# ----------------------------------------------------------------------------------- losses


def similarity(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    """Pairwise similarity S (len(a)×len(b)): 1 where two items share a label, else 0.

    ``labels_*`` are multi-hot (N×C); single-label data is the one-hot special case.
    """
    return (labels_a.float() @ labels_b.float().t() > 0).float()


def theta(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Θ = ½ u vᵀ for row-layout outputs u (N×K), v (M×K) — DCMH's Θ_ij = ½ F_{*i}ᵀ G_{*j}."""
    return 0.5 * u @ v.t()


def pairwise_nll(theta_: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Element-wise −(S∘Θ − log(1 + e^Θ)) = softplus(Θ) − S∘Θ (numerically stable form)."""
    return nnf.softplus(theta_) - s * theta_


def quantization_loss(codes: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """‖B − F‖²_F (summed over the rows given)."""
    return ((codes - outputs) ** 2).sum()


def balance_loss(column_sum: torch.Tensor) -> torch.Tensor:
    """‖F·1‖² from the per-bit sum over all n items (a K-vector): ``(column_sum**2).sum()``."""
    return (column_sum ** 2).sum()


def decorrelation_loss(outputs: torch.Tensor) -> torch.Tensor:
    """½(‖C‖²_F − ‖diag C‖²) with C = (1/N)(H − μ)ᵀ(H − μ) the K×K covariance of the bits.

    It is the sum of squared covariances between distinct bits (each unordered pair
    counted once), zero exactly when the bits are uncorrelated over the rows given.
    """
    centred = outputs - outputs.mean(dim=0, keepdim=True)
    cov = centred.t() @ centred / max(outputs.shape[0], 1)
    return 0.5 * ((cov ** 2).sum() - (torch.diagonal(cov) ** 2).sum())


def continuous_hamming(u: torch.Tensor, v: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """d_ij = (K/2)(1 − cos(u_i, v_j)): equals the Hamming distance for ±1 codes (DCH/CMHH)."""
    k = u.shape[1]
    cos = nnf.normalize(u, dim=1, eps=eps) @ nnf.normalize(v, dim=1, eps=eps).t()
    return 0.5 * k * (1.0 - cos)


def class_balanced_weights(s: torch.Tensor) -> torch.Tensor:
    """w_ij = |S|/|S₁| for similar pairs, |S|/|S₀| for dissimilar ones (0 for an empty class).

    With these weights (1/|S|)Σ w_ij ℓ_ij = mean over similar pairs + mean over dissimilar
    pairs, so the rarer kind of pair counts as much as the frequent one.
    """
    total = float(s.numel())
    n_pos = float(s.sum())
    n_neg = total - n_pos
    w_pos = total / n_pos if n_pos > 0 else 0.0
    w_neg = total / n_neg if n_neg > 0 else 0.0
    return torch.where(s > 0, torch.full_like(s, w_pos), torch.full_like(s, w_neg))


def exponential_focal_loss(dist: torch.Tensor, s: torch.Tensor, beta: float, gamma: float,
                           eps: float = 1e-6) -> torch.Tensor:
    """Element-wise CMHH focal loss with p_ij = exp(−β d_ij) the probability of similarity [R].

    ℓ_ij = s_ij (1 − p_ij)^γ · β d_ij − (1 − s_ij) p_ij^γ · log(1 − p_ij)

    (the focal loss of Lin et al. with −log p = β d). βd is clamped below at ``eps`` so that
    log(1 − p) stays finite for coincident dissimilar pairs.
    """
    bd = (beta * dist).clamp_min(eps)
    p = torch.exp(-bd)
    log_one_minus_p = torch.log(-torch.expm1(-bd))
    return s * (1.0 - p) ** gamma * bd - (1.0 - s) * p ** gamma * log_one_minus_p


def exponential_quantization_loss(outputs: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-row β·d(|h|, 1): −log of the exponential probability that |h| and 1 are similar [R].

    The exponential-distribution analogue of DCH's Cauchy quantization loss
    log(1 + d(|h|, 1)/γ); zero when all |h_k| are equal (e.g. h ∈ {−1, 1}^K).
    """
    ones = torch.ones(1, outputs.shape[1], dtype=outputs.dtype, device=outputs.device)
    return beta * continuous_hamming(outputs.abs(), ones).squeeze(1)


def square_quantization_loss(outputs: torch.Tensor) -> torch.Tensor:
    """Per-row Σ_k (|h_k| − 1)² (torchcmh's commented CMHH 'collective' term)."""
    return ((outputs.abs() - 1.0) ** 2).sum(dim=1)


# ----------------------------------------------------------------------------------- schedules


def scheduled_lr(lr0: float, lr_end: float, epoch: int, total: int, kind: str) -> float:
    """The learning rate of ``epoch`` (0-based) on a ``total``-epoch schedule from lr0 to lr_end.

    ``log``: lr0·(lr_end/lr0)^(e/(T−1)) (MATLAB ``logspace``); ``linear``: linear
    interpolation (TF ``linspace``); ``constant``: lr0. Past the schedule: lr_end.
    """
    if kind == "constant":
        return lr0
    if total <= 1:
        return lr0
    t = min(epoch, total - 1) / (total - 1)
    if kind == "log":
        return float(lr0 * (lr_end / lr0) ** t)
    if kind == "linear":
        return float(lr0 + (lr_end - lr0) * t)
    raise ValueError(f"unknown learning-rate schedule '{kind}'; valid: log, linear, constant")


def reinit_linear_(module: nn.Module, std: float) -> None:
    """Every ``nn.Linear`` in ``module``: weight ~ N(0, std²), bias 0."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std)
            nn.init.zeros_(layer.bias)


def text_input_dim(shape: Any) -> int:
    dim = shape.text.dim
    return int(dim if isinstance(dim, int) else math.prod(dim))


class InputNormalisation(nn.Module):
    """Per-dimension input normalisation fitted on the training set (raw images pass through).

    ``mode``: ``none``; ``center`` (subtract the training mean); ``standardize`` (and
    divide by the training std, floored at 1e-6); ``auto`` — centre bag-of-words inputs
    (DCMH's MATLAB code zero-means the BoW: ``normZeroMean``, ``DCMH_demo.m`` L27) and
    standardise precomputed feature inputs (xbench features-mode choice).

    Why: these baselines use plain SGD, whose usable step size scales with the input
    norm. Non-negative inputs (pooled ReLU features, counts) make the balance term ‖F·1‖²
    dominate the curvature along the mean input (divergence above lr ≈ 0.1 on
    ``synthetic``), and small-norm features (Wikipedia's SIFT histograms and LDA
    proportions sum to 1) barely move at any usable lr. Standardised features have norm
    ≈ √D, the regime of a ResNet-18 pooled feature that the end-to-end head sees.
    """

    def __init__(self, shape: Any, mode: str = "auto"):
        super().__init__()
        if mode not in ("none", "center", "standardize", "auto"):
            raise ValueError(f"unknown input normalisation '{mode}'; valid: none, center, standardize, auto")
        self.mode = {m: self._mode_for(mode, getattr(shape, m).kind) for m in ("image", "text")}
        for m in ("image", "text"):
            self.register_buffer(f"mean_{m}", None)
            self.register_buffer(f"scale_{m}", None)

    @staticmethod
    def _mode_for(mode: str, kind: str) -> str:
        if kind == "images":
            return "none"
        if mode == "auto":
            return "center" if kind == "bow" else "standardize"
        return mode

    @torch.no_grad()
    def fit(self, data: TrainData) -> None:
        for modality in ("image", "text"):
            mode = self.mode[modality]
            if mode == "none":
                continue
            x = getattr(data, modality).float().flatten(1)
            setattr(self, f"mean_{modality}", x.mean(dim=0))
            if mode == "standardize":
                setattr(self, f"scale_{modality}", 1.0 / x.std(dim=0, unbiased=False).clamp_min(1e-6))

    def forward(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        mean = getattr(self, f"mean_{modality}")
        if mean is None:
            return x
        x = x.float().flatten(1) - mean
        scale = getattr(self, f"scale_{modality}")
        return x if scale is None else x * scale


# ----------------------------------------------------------------------------------- skeleton

SKELETON_HYPERPARAMETERS: dict[str, Hyper] = {
    "gamma": Hyper(1.0, "DCMH code DCMH_demo.m L22 (methods.md §1)", "weight γ of the quantization term ‖B−F‖²+‖B−G‖²"),
    "eta": Hyper(1.0, "DCMH code DCMH_demo.m L23 (methods.md §1)", "weight η of the bit-balance term ‖F·1‖²+‖G·1‖²"),
    "batch_size": Hyper(128, "DCMH code DCMH_demo.m L24", "mini-batch size"),
    "lr_image": Hyper(10 ** -1.5, "DCMH code DCMH_demo.m L19-21 (lr_img = logspace(-1.5, -3))",
                      "initial SGD learning rate of the image network"),
    "lr_text": Hyper(10 ** -1.5, "DCMH code DCMH_demo.m L19-21 (lr_txt = logspace(-1.5, -3))",
                     "initial SGD learning rate of the text network"),
    "lr_end_factor": Hyper(10 ** -1.5, "DCMH code DCMH_demo.m L19-21 (10^-3 / 10^-1.5)",
                           "final / initial learning rate of the schedule"),
    "lr_schedule": Hyper("log", "DCMH MATLAB code (logspace); TF code uses linspace to 1e-6", "log, linear or constant",
                         choices=("log", "linear", "constant")),
    "schedule_epochs": Hyper(0, "xbench", "length of the lr schedule in epochs; 0 = the run's epoch count when the "
                             "runner passes it (TrainData.extra['epochs']), else the method's default_epochs"),
    "weight_decay": Hyper(5e-4, "DCMH code update_net.m L2 (weights and biases)", "SGD weight decay"),
    "momentum": Hyper(0.0, "DCMH code update_net.m (plain SGD)", "SGD momentum"),
    "init_std": Hyper(0.01, "DCMH code net_structure_img.m L11-17 (fc8 ~ 0.01·N(0,1))",
                      "std of the image hash layer's initial weights (bias 0); the shared text net keeps PyTorch's "
                      "default init (a 3-layer MLP at 0.01 would start with vanishing outputs)"),
    "buffer_init": Hyper("zeros", "DCMH MATLAB code process_DCMH.m (F = G = 0, so B = 0 in epoch 1); TF: normal",
                         "initial F, G buffers: zeros or normal (N(0,1), TF DCMH_demo.py)", choices=("zeros", "normal")),
    "sampling": Hyper("draw", "DCMH paper Alg. 1 and both official codes (randperm(n)(1:bs) per iteration)",
                      "draw: ⌈n/bs⌉ independent random batches per pass; epoch: one shuffled partition",
                      choices=("draw", "epoch")),
    "first": Hyper("image", "DCMH paper Alg. 1 and TF code (image first); the MATLAB release updates text first",
                   "which network is updated first in each epoch", choices=("image", "text")),
    "input_norm": Hyper("auto", "DCMH code DCMH_demo.m L27 (normZeroMean on the BoW); xbench for features",
                        "auto: centre BoW, standardise precomputed features, raw images untouched; or none / center / "
                        "standardize (see InputNormalisation)", choices=("auto", "none", "center", "standardize")),
    "backbone_weights": Hyper("imagenet", "CMMQ paper §4.2 (ImageNet-initialised ResNet-18)",
                              "raw images only: ResNet-18 weights — imagenet, none or a checkpoint path"),
}


class SharedCodeHasher(Hasher):
    """DCMH's training procedure with shared codes B; subclasses define the batch loss.

    Subclass contract: :meth:`batch_terms` returns the loss of one batch to minimise and its
    named, weighted contributions (they sum to the loss; logged as epoch means per
    modality, ``loss_image``/``loss_text``, their mean ``batch_loss``);
    :meth:`objective_terms` returns the full objective on the buffers after the B-step
    (key ``objective``, also logged as ``loss``: the per-batch surrogates are not comparable
    across epochs because the balance term is a global sum, but J is).
    """

    default_epochs: ClassVar[int] = 500
    has_sample_losses: ClassVar[bool] = True

    def __init__(self, shape, bits, **kwargs):
        super().__init__(shape, bits, **kwargs)
        hp = self.hp
        for key in ("batch_size",):
            if int(hp[key]) < 1:
                raise ValueError(f"{self.name}.{key}: expected a positive integer, got {hp[key]}")
        for key in ("lr_image", "lr_text", "lr_end_factor"):
            if not float(hp[key]) > 0:
                raise ValueError(f"{self.name}.{key}: expected a positive number, got {hp[key]}")
        self.image_net = ImageNet(shape.image, bits, out_activation="linear", weights=hp["backbone_weights"],
                                  head_init_std=float(hp["init_std"]) if hp["init_std"] else None)
        self.text_net = TextNet(text_input_dim(shape), bits, out_activation="linear")
        self.register_buffer("F", None)
        self.register_buffer("G", None)
        self.register_buffer("B", None)
        self.inputs = InputNormalisation(shape, hp["input_norm"])
        self._optimizers: dict[str, torch.optim.Optimizer] = {}

    # ------------------------------------------------------------------ pieces
    def net(self, modality: str) -> nn.Module:
        return self.image_net if modality == "image" else self.text_net

    def buffer(self, modality: str) -> torch.Tensor:
        return self.F if modality == "image" else self.G

    @staticmethod
    def other(modality: str) -> str:
        return "text" if modality == "image" else "image"

    def optimizer(self, modality: str) -> torch.optim.Optimizer:
        if modality not in self._optimizers:
            self._optimizers[modality] = torch.optim.SGD(
                self.net(modality).parameters(), lr=float(self.hp[f"lr_{modality}"]), momentum=float(self.hp["momentum"]),
                weight_decay=float(self.hp["weight_decay"]))
        return self._optimizers[modality]

    def schedule_length(self, data: TrainData) -> int:
        if int(self.hp["schedule_epochs"]) > 0:
            return int(self.hp["schedule_epochs"])
        return int(data.extra.get("epochs") or self.default_epochs)

    def build_buffers(self, data: TrainData) -> None:
        """F, G (n×K) and B = sign(F + G), on the data's device (first ``fit_epoch`` call)."""
        n, k = len(data), self.bits
        device = data.labels.device
        if self.hp["buffer_init"] == "normal":
            g = torch.Generator().manual_seed(self.seed + 104729)
            self.F = torch.randn(n, k, generator=g).to(device)
            self.G = torch.randn(n, k, generator=g).to(device)
        else:
            self.F = torch.zeros(n, k, device=device)
            self.G = torch.zeros(n, k, device=device)
        self.B = torch.sign(self.F + self.G)

    def update_codes(self) -> None:
        """B = sign(γ(F + G)) = sign(F + G) (γ > 0); an exact 0 stays 0 (MATLAB ``e_sign``)."""
        self.B = torch.sign(self.F + self.G)

    def pass_batches(self, n: int) -> Iterator[torch.Tensor]:
        bs = int(self.hp["batch_size"])
        if self.hp["sampling"] == "epoch":
            yield from self.batches(n, bs)
            return
        for _ in range(math.ceil(n / bs)):
            yield torch.randperm(n, generator=self.generator)[:bs].to(self.device)

    # ------------------------------------------------------------------ subclass hooks
    def batch_terms(self, modality: str, u: torch.Tensor, idx: torch.Tensor, data: TrainData
                    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def objective_terms(self, data: TrainData) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ shared helpers for the hooks
    def column_sum_with(self, modality: str, u: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Σ_i over all n rows of the modality's buffer, with the batch rows taken live from ``u``.

        The buffer rows ``idx`` already hold ``u.detach()``, so the sum's value is the
        buffer's column sum and its gradient w.r.t. each batch row is 2·(F·1) in ‖F·1‖²,
        the gradient DCMH's code uses (process_DCMH.m ``2*eta*repmat(F1, 1, bs)``).
        """
        buf = self.buffer(modality)
        return buf.sum(dim=0) - u.detach().sum(dim=0) + u.sum(dim=0)

    def pairwise_sum(self, u: torch.Tensor, others: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return pairwise_nll(theta(u, others), s).sum()

    def chunked_nll(self, a: torch.Tensor, b: torch.Tensor, labels_a: torch.Tensor, labels_b: torch.Tensor,
                    chunk: int = 1024) -> float:
        """Σ_{i,j} softplus(Θ_ij) − S_ij Θ_ij over all pairs of rows of ``a`` and ``b``, chunked."""
        total = 0.0
        for start in range(0, a.shape[0], chunk):
            sl = slice(start, start + chunk)
            total += float(pairwise_nll(theta(a[sl], b), similarity(labels_a[sl], labels_b)).sum())
        return total

    # ------------------------------------------------------------------ the interface
    def fit_epoch(self, data: TrainData, epoch: int) -> dict[str, float]:
        n = len(data)
        if self.F is None:
            self.inputs.fit(data)
            self.build_buffers(data)
        elif self.F.shape[0] != n:
            raise ValueError(f"{self.name}: fit_epoch got {n} training items but its buffers hold "
                             f"{self.F.shape[0]}; the training set must not change between epochs")
        logged: dict[str, float] = {}
        order = ("image", "text") if self.hp["first"] == "image" else ("text", "image")
        for modality in order:
            opt = self.optimizer(modality)
            lr0 = float(self.hp[f"lr_{modality}"])
            lr = scheduled_lr(lr0, lr0 * float(self.hp["lr_end_factor"]), epoch, self.schedule_length(data),
                              self.hp["lr_schedule"])
            logged[f"lr_{modality}"] = lr
            for group in opt.param_groups:
                group["lr"] = lr
            x = getattr(data, modality)
            sums: dict[str, float] = {}
            total, count = 0.0, 0
            for idx in self.pass_batches(n):
                u = self.continuous(modality, x[idx])
                self.buffer(modality)[idx] = u.detach()
                loss, terms = self.batch_terms(modality, u, idx, data)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                count += 1
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + float(value.detach())
            logged[f"loss_{modality}"] = total / max(count, 1)
            for key, value in sums.items():
                logged[f"{key}_{modality}"] = value / max(count, 1)
        self.update_codes()
        logged["batch_loss"] = 0.5 * (logged["loss_image"] + logged["loss_text"])
        with torch.no_grad():
            objective = self.objective_terms(data)
        logged.update(objective)
        logged["loss"] = objective["objective"]
        logged["codes_zero_fraction"] = float((self.B == 0).float().mean())
        return logged

    def continuous(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        return self.net(modality)(self.inputs(modality, x))

    @torch.no_grad()
    def outputs_all(self, modality: str, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        was_training = self.training
        self.eval()
        try:
            return torch.cat([self.continuous(modality, x[s:s + batch_size]) for s in range(0, x.shape[0], batch_size)])
        finally:
            self.train(was_training)

    @torch.no_grad()
    def sample_losses(self, data: TrainData) -> np.ndarray | None:
        """Per item i: mean over j of the cross-modal NLL of (image i, text j) and (text i, image j).

        Computed from the networks' current outputs on the whole (noisy) training set.
        """
        f = self.outputs_all("image", data.image)
        g = self.outputs_all("text", data.text)
        li, lt = data.labels_of("image"), data.labels_of("text")
        out = torch.zeros(len(data), device=f.device)
        for start in range(0, len(data), 1024):
            sl = slice(start, start + 1024)
            out[sl] = 0.5 * (pairwise_nll(theta(f[sl], g), similarity(li[sl], lt)).mean(1)
                             + pairwise_nll(theta(g[sl], f), similarity(lt[sl], li)).mean(1))
        return out.cpu().numpy()

    def extra_state_for_store(self) -> dict[str, Any]:
        if self.B is None:
            return {}
        return {"codes_zero_fraction": float((self.B == 0).float().mean()),
                "codes_bit_mean_abs": float(self.B.float().mean(0).abs().mean())}
