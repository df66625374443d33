"""Small-loss sample selection: the keep-ratio schedule R(t) and the per-batch selection.

Sources: the CMMQ paper (Yang et al., CVPR 2022) §3.3 Eq. (5) and §4.2
("Selection setting", following Co-teaching); yangerkun/Mutual-Quantization-… @ 2b17232,
My_method.py L17, L102-111, L193-194 (the
release's forget schedule and ``int()`` rounding).

* :func:`keep_ratio` — the paper's R(t) = 1 − min(t/T_k · ρ, ρ), T_k = 10. ``t`` is the
  number of epochs completed before the current one (0 in the first epoch), so the first
  epoch keeps every sample and the full drop rate ρ is reached at the (T_k+1)-th epoch.
  This follows Co-teaching's Algorithm 1, which the paper cites for the schedule: R(T) is
  updated at the *end* of epoch T, so epoch T trains with 1 − min((T−1)/T_k·ρ, ρ).
* :func:`release_keep_ratio` — the CMMQ release: forget rate linspace(0, ρ, num_gradual)
  over the first ``num_gradual`` (20) epochs, then ρ; ρ is reached at epoch index
  num_gradual − 1 (Co-teaching's code has the same off-by-one against t/T_k).
* :func:`num_kept` — how many of n samples are kept. Eq. (5) asks for the smallest subset
  with |D'| ≥ R(t)·n, i.e. ⌈R(t)·n⌉ (``rounding="ceil"``, the paper; a 1e-9 tolerance
  absorbs floating error such as (1 − 0.6)·10 = 4.000000000000001); the release takes
  ``int(R·n)`` = ⌊R(t)·n⌋ (``rounding="floor"``). Both keep at least one sample, so a
  small last batch never yields an empty mean (the release would produce NaN there).
* :func:`small_loss_indices` — indices of the k smallest losses (stable: equal losses keep
  batch order), which both networks then train on.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _check_rate(noise_rate: float) -> float:
    rho = float(noise_rate)
    if not (0.0 <= rho < 1.0) or math.isnan(rho):
        raise ValueError(f"noise rate ρ must be in [0, 1), got {noise_rate}")
    return rho


def keep_ratio(t: int, noise_rate: float, t_k: float = 10) -> float:
    """The paper's R(t) = 1 − min(t/T_k · ρ, ρ) (t = epochs completed, from 0)."""
    rho = _check_rate(noise_rate)
    if t < 0:
        raise ValueError(f"epoch t must be non-negative, got {t}")
    if t_k <= 0:
        raise ValueError(f"T_k must be positive, got {t_k}")
    return 1.0 - min(t / t_k * rho, rho)


def release_forget_schedule(epochs: int, noise_rate: float, num_gradual: int = 20) -> np.ndarray:
    """The release's per-epoch forget rates: linspace(0, ρ, num_gradual) then ρ (length ``epochs``)."""
    rho = _check_rate(noise_rate)
    schedule = np.full(max(int(epochs), 0), rho, dtype=np.float64)
    g = max(int(num_gradual), 0)
    ramp = np.linspace(0.0, rho, g)
    schedule[:g] = ramp[: len(schedule)]
    return schedule


def release_keep_ratio(epoch: int, noise_rate: float, num_gradual: int = 20) -> float:
    """1 − the release's forget rate at 0-based ``epoch``."""
    return 1.0 - float(release_forget_schedule(epoch + 1, noise_rate, num_gradual)[epoch])


def num_kept(n: int, ratio: float, rounding: str = "ceil") -> int:
    """How many of ``n`` samples a batch keeps at keep ratio ``ratio`` (at least 1 when n ≥ 1)."""
    if n <= 0:
        return 0
    if rounding == "ceil":
        k = math.ceil(ratio * n - 1e-9)
    elif rounding == "floor":
        k = int(ratio * n)
    else:
        raise ValueError(f"rounding must be 'ceil' or 'floor', got {rounding!r}")
    return min(max(k, 1), n)


def small_loss_indices(losses: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the ``k`` smallest entries of a 1-d loss tensor (ties keep the earlier index)."""
    if losses.dim() != 1:
        raise ValueError(f"expected a 1-d tensor of per-sample losses, got shape {tuple(losses.shape)}")
    order = torch.sort(losses.detach(), stable=True).indices
    return order[:k]


__all__ = ["keep_ratio", "num_kept", "release_forget_schedule", "release_keep_ratio", "small_loss_indices"]
