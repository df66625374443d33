"""CMMQ's loss pieces, per sample: proxy BCE, quantization penalty, mutual quantization.

Sources: the CMMQ paper (Yang et al., CVPR 2022) §3.2 Eqs. (2)–(3), §3.3
Eqs. (6)–(7); docs/methods/cmmq.md (reading of the printed formulas; the release's terms,
yangerkun/Mutual-Quantization-… @ 2b17232 My_method.py L72-111; the ``symkl`` reconstruction).

All functions take tanh outputs b ∈ (−1, 1)^{N×K} and return one value per sample (N,).

* :func:`proxy_bce` — the PC loss's data term. The paper's L_p = Σ log δ(S(b, o)) with
  δ(x) = exp(−βx) and S = −BCE is, read consistently, β · BCE((1+b)/2, o) with the BCE
  averaged over the K bits (the 1/K of S). The printed BCE has log b in both terms — a typo
  for log(1 − b). o = (1+h)/2 for a ±1 proxy h. Logs are clamped at −100 as in
  ``torch.nn.BCELoss`` (what the release uses), so saturated outputs stay finite.
* :func:`quantization_penalty` — R(b). ``"square"``: Σ_k (|b_k| − 1)², DCMH's ‖B − F‖² with
  B = sign(F) and what the release computes; the default. ``"linear"``: Σ_k (|b_k| − 1) as
  printed (paper Eq. 3 text) — it lies in [−K, 0] and *minimising* it drives |b| → 0, the
  opposite of a quantization loss, so it is a slip; kept only as an ablation switch.
* :func:`symmetric_kl` — the mutual quantization loss L_m (Eqs. 6–7), reconstruction [R]:
  each bit is a Bernoulli with p = clamp((1+b)/2, ε, 1−ε) (ε = 1e-6); the per-bit KL uses
  both outcomes, p log(p/q) + (1−p) log((1−p)/(1−q)). Eq. 7 prints only the "bit = 1" term
  p log(p/q): one direction of it can be negative, but the symmetric sum Eq. 6 takes,
  (p − q) log(p/q), cannot. What is wrong with the printed form is that it ignores the
  "bit = 0" outcome, so it is not the KL divergence of the two Bernoulli bits (p = 0.1,
  q = 0.2: printed symmetric sum 0.069, symmetric KL 0.081; the missing part
  (q − p) log((1−p)/(1−q)) grows as both probabilities approach 1 from the same side, where the
  printed term (p − q) log(p/q) fades). The two directions are added. Per
  sample it is averaged over the K bits (``reduction="mean"``, the scaling of the PC loss's
  1/K and of the release's unused ``KLLoss``; ``cmmq``'s default) or summed as printed in
  Eq. 7 (``"sum"``).
  Eq. (6) sums over ordered pairs i ≠ j, which for two modalities counts the symmetric KL
  twice; we count the unordered pair once (the factor 2 would only rescale λ). No side is
  detached: the gradient reaches both networks.
* :func:`release_infonce` — the release's term named ``MQ_loss``: −log diag(softmax over
  dim 0 of U·Vᵀ), i.e. for text j, the softmax over the batch's images of the inner
  products u_i·v_j, at the positive i = j (a one-directional text→image InfoNCE at
  temperature 1). Off by default in the release (weight ``--beta`` = 0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

KL_EPS = 1e-6
QUANT_KINDS = ("square", "linear")


def to_probability(b: torch.Tensor) -> torch.Tensor:
    """(1 + b)/2: a tanh output (or a ±1 code) as a per-bit probability of "bit = 1"."""
    return 0.5 * (b + 1.0)


def proxy_bce(b: torch.Tensor, proxies: torch.Tensor) -> torch.Tensor:
    """Mean over bits of BCE((1+b)/2, (1+o)/2) for tanh outputs ``b`` and ±1 targets ``proxies``."""
    p = to_probability(b).clamp(0.0, 1.0)
    target = to_probability(proxies.to(b.dtype))
    return F.binary_cross_entropy(p, target, reduction="none").mean(dim=1)


def quantization_penalty(b: torch.Tensor, kind: str = "square") -> torch.Tensor:
    """R(b) summed over bits: Σ(|b|−1)² (``square``) or Σ(|b|−1) (``linear``, as printed)."""
    if kind == "square":
        return (b.abs() - 1.0).pow(2).sum(dim=1)
    if kind == "linear":
        return (b.abs() - 1.0).sum(dim=1)
    raise ValueError(f"quantization kind must be one of {QUANT_KINDS}, got {kind!r}")


def bernoulli_kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Element-wise KL(Bern(p) ‖ Bern(q)) with both outcomes (inputs already clamped)."""
    return p * (p.log() - q.log()) + (1.0 - p) * ((1.0 - p).log() - (1.0 - q).log())


def symmetric_kl(
    b_i: torch.Tensor, b_j: torch.Tensor, reduction: str = "sum", eps: float = KL_EPS
) -> torch.Tensor:
    """KL(B_i‖B_j) + KL(B_j‖B_i) per sample over per-bit Bernoullis p = (1+b)/2 (clamped)."""
    p = to_probability(b_i).clamp(eps, 1.0 - eps)
    q = to_probability(b_j).clamp(eps, 1.0 - eps)
    per_bit = bernoulli_kl(p, q) + bernoulli_kl(q, p)
    if reduction == "sum":
        return per_bit.sum(dim=1)
    if reduction == "mean":
        return per_bit.mean(dim=1)
    raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")


def release_infonce(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The release's ``MQ_loss``: −log softmax_i(u_i·v_j) at i = j, per sample j."""
    logits = u @ v.t()  # [i, j] = u_i · v_j
    return -torch.log_softmax(logits, dim=0).diagonal()


__all__ = [
    "KL_EPS",
    "QUANT_KINDS",
    "bernoulli_kl",
    "proxy_bce",
    "quantization_penalty",
    "release_infonce",
    "symmetric_kl",
    "to_probability",
]
