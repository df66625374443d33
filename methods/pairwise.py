"""Loss pieces shared by the pairwise baselines ``dcmh``, ``prdh`` and ``cmhh``.

Loss functions (pure functions of tensors, tested against hand-written formulas):

* :func:`similarity` — S_ij = [l_i·l_j > 0] from multi-hot labels (DCMH ``calc_neighbor``;
  DCMH official code jiangqy/DCMH-CVPR2017 @ 67d0e84).
* :func:`pairwise_nll` — the negative log-likelihood of S under σ(Θ_ij), element-wise
  log(1 + e^Θ) − S·Θ, with Θ = ½ uᵀv (:func:`theta`), DCMH Eq. (2) / ``calc_loss``.
* :func:`softplus` — log(1 + e^x) = max(x, 0) + log(1 + e^−|x|) with the exact gradient σ(x);
  the same function as ``torch.nn.functional.softplus`` (to float rounding) at about half its
  CPU cost: PyTorch's CPU ``log1p``, which its softplus calls, is not vectorised for float32.
* :func:`quantization_loss`, :func:`balance_loss` — ‖B − F‖²_F and ‖F·1‖² of DCMH.
* :func:`decorrelation_loss` — ½(‖C‖²_F − ‖diag C‖²) of the covariance C of the code bits
  (PRDH [R]); a *correct* one: the torchcmh re-implementation builds C from
  mean(h − μ), which is identically zero, so its term never acts.
* :func:`similarity_matrix`, :func:`pairwise_loss`, :func:`half_sq` — SSAH's pairwise
  likelihood between a full-training-set buffer and a batch (``nll`` as the paper,
  ``squared`` as its official code) and the official ½‖·‖² (lelan-li/SSAH @ 8780b20
  ``SSAH.py`` L104-124, ``ops.py``).
* :func:`continuous_hamming`, :func:`class_balanced_weights`,
  :func:`exponential_focal_loss`, :func:`exponential_quantization_loss` — CMHH's
  exponential-distribution focal loss on a continuous Hamming distance with class-balanced
  pair weights and its quantization term (reconstruction [R]).

The DCMH training procedure shared by ``dcmh`` and ``prdh`` is in
:mod:`xbench.methods.shared_codes`.

Row layout: everywhere here F, G, B are n×K (one row per item); the papers write K×n.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as nnf

from .inputs import InputNormalisation  # noqa: F401  (re-exported: it lived here)

# ----------------------------------------------------------------------------------- losses


def similarity(labels_a: torch.Tensor, labels_b: torch.Tensor) -> torch.Tensor:
    """Pairwise similarity S (len(a)×len(b)): 1 where two items share a label, else 0.

    ``labels_*`` are multi-hot (N×C); single-label data is the one-hot special case.
    """
    return (labels_a.float() @ labels_b.float().t() > 0).float()


def theta(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Θ = ½ u vᵀ for row-layout outputs u (N×K), v (M×K) — DCMH's Θ_ij = ½ F_{*i}ᵀ G_{*j}."""
    return 0.5 * u @ v.t()


class _Softplus(torch.autograd.Function):
    """log(1 + e^x) as max(x, 0) + log(1 + e^−|x|); backward g·σ(x) (one saved tensor)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0) + torch.log(1 + torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """log(1 + e^x), numerically stable, with gradient σ(x) (see the module docstring)."""
    return _Softplus.apply(x)


def pairwise_nll(theta_: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Element-wise −(S∘Θ − log(1 + e^Θ)) = softplus(Θ) − S∘Θ (numerically stable form)."""
    return softplus(theta_) - s * theta_


def quantization_loss(codes: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """‖B − F‖²_F (summed over the rows given)."""
    return ((codes - outputs) ** 2).sum()


def balance_loss(column_sum: torch.Tensor) -> torch.Tensor:
    """‖F·1‖² from the per-bit sum over all n items (a K-vector): ``(column_sum**2).sum()``."""
    return (column_sum**2).sum()


def decorrelation_loss(outputs: torch.Tensor) -> torch.Tensor:
    """½(‖C‖²_F − ‖diag C‖²) with C = (1/N)(H − μ)ᵀ(H − μ) the K×K covariance of the bits.

    It is the sum of squared covariances between distinct bits (each unordered pair
    counted once), zero exactly when the bits are uncorrelated over the rows given.
    """
    centred = outputs - outputs.mean(dim=0, keepdim=True)
    cov = centred.t() @ centred / max(outputs.shape[0], 1)
    return 0.5 * ((cov**2).sum() - (torch.diagonal(cov) ** 2).sum())


def continuous_hamming(u: torch.Tensor, v: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """d_ij = (K/2)(1 − cos(u_i, v_j)): equals the Hamming distance for ±1 codes (DCH/CMHH)."""
    k = u.shape[1]
    cos = nnf.normalize(u, dim=1, eps=eps) @ nnf.normalize(v, dim=1, eps=eps).t()
    return 0.5 * k * (1.0 - cos)


def class_balanced_weights(s: torch.Tensor, counts: tuple[float, float] | None = None) -> torch.Tensor:
    """w_ij = |S|/|S₁| for similar pairs, |S|/|S₀| for dissimilar ones (0 for an empty class).

    With these weights (1/|S|)Σ w_ij ℓ_ij = mean over similar pairs + mean over dissimilar
    pairs, so the rarer kind of pair counts as much as the frequent one. ``counts`` =
    (|S₁|, |S|) when ``s`` is only a block of a larger pair set (default: ``s`` itself).
    """
    n_pos, total = (float(s.sum()), float(s.numel())) if counts is None else map(float, counts)
    n_neg = total - n_pos
    w_pos = total / n_pos if n_pos > 0 else 0.0
    w_neg = total / n_neg if n_neg > 0 else 0.0
    return torch.where(s > 0, torch.full_like(s, w_pos), torch.full_like(s, w_neg))


def exponential_focal_loss(
    dist: torch.Tensor, s: torch.Tensor, beta: float, gamma: float, eps: float = 1e-6
) -> torch.Tensor:
    """Element-wise CMHH focal loss with p_ij = exp(−β d_ij) the probability of similarity [R].

    ℓ_ij = s_ij (1 − p_ij)^γ · β d_ij − (1 − s_ij) p_ij^γ · log(1 − p_ij)

    (the focal loss of Lin et al. with −log p = β d). βd is clamped below at ``eps`` so that
    log(1 − p) stays finite for coincident dissimilar pairs.
    """
    bd = (beta * dist).clamp_min(eps)
    p = torch.exp(-bd)
    log_one_minus_p = torch.log(-torch.expm1(-bd))
    return s * (1.0 - p) ** gamma * bd - (1.0 - s) * p**gamma * log_one_minus_p


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


# ----------------------------------------------------------------------------------- SSAH

PAIRWISE_FORMS = ("nll", "squared")


def similarity_matrix(
    labels_all: torch.Tensor, labels_batch: torch.Tensor, value: float = 1.0
) -> torch.Tensor:
    """S (n × b): ``value`` where two items share at least one label, else 0."""
    return (labels_all.float() @ labels_batch.float().t() > 0).float() * value


def pairwise_loss(
    anchors: torch.Tensor, outputs: torch.Tensor, s: torch.Tensor, form: str = "nll"
) -> torch.Tensor:
    """J between the (fixed) buffer ``anchors`` (n × d) and a batch's ``outputs`` (b × d).

    Θ = ½·anchors·outputsᵀ; ``nll``: Σ softplus(Θ) − S∘Θ; ``squared``: ½ Σ (S∘Θ − softplus(Θ))².
    """
    theta = 0.5 * anchors @ outputs.t()
    if form == "nll":
        return (softplus(theta) - s * theta).sum()
    if form == "squared":
        return 0.5 * (s * theta - softplus(theta)).pow(2).sum()
    raise ValueError(f"pairwise form must be one of {PAIRWISE_FORMS}, got {form!r}")


def half_sq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """½‖a − b‖² summed (the official ``mse_criterion``)."""
    return 0.5 * (a - b).pow(2).sum()


def text_input_dim(shape: Any) -> int:
    dim = shape.text.dim
    return int(dim if isinstance(dim, int) else math.prod(dim))
