"""Hadamard proxy codes (CMMQ §3.2, CSQ hash centres) and their assignment to labelled items.

Sources: the CMMQ paper (Yang et al., CVPR 2022) §3.2 Eq. (4);
CSQ hash centres (swuxyj/DeepHash-pytorch @ ab14068 CSQ.py L72-113) and the CMMQ release
(2b17232, My_method.py L115-156: ``get_hash_targets`` / ``label2center``).

Construction (:func:`hadamard_proxies`), K the code length (a power of two), C the classes:

* C ≤ K — the first C rows of the Sylvester Hadamard matrix H_K (paper §3.2). Rows are
  mutually orthogonal, so any two proxies are exactly K/2 bits apart.
* K < C ≤ 2K — the first C rows of [H_K; −H_K] (paper §3.2). A row and its negation are
  K bits apart; all other pairs K/2.
* C > 2K — not covered by the paper (yet its own MS-COCO, 80 classes, at 32 bits needs it).
  Reconstruction following CSQ [R]: the 2K rows of [H_K; −H_K] are followed by C − 2K random
  *balanced* rows (exactly K/2 entries −1), redrawn up to ``max_tries`` times until the
  minimum pairwise Hamming distance over all C proxies exceeds K/4 and the mean pairwise
  distance is at least K/2 (CSQ's acceptance test). When no draw meets it, ``keep="best"``
  keeps the draw with the largest minimum distance (then the mean) and
  :attr:`ProxyCodes.criteria_met` is False — the caller warns and records it;
  ``keep="last"`` keeps the last draw, as the CMMQ release (and CSQ) do.

Assignment of a target code to an item with (noisy) multi-hot labels y:

* :func:`majority_vote` — o = sign(Σ_{c∈y} h_c) per bit (paper §3.2 "majority voting");
  bits where the vote ties (0) take the bit of one fixed random ±1 vector (CSQ's rule,
  CSQ: swuxyj/DeepHash-pytorch @ ab14068 CSQ.py L72-113). An item whose label set is empty ties on
  every bit and gets that vector.
  For single-label items the vote is the class's own proxy, so the same rule serves both.
* :func:`argmax_assign` — the proxy of argmax(y), i.e. of the lowest-index positive label
  (an all-zero row maps to class 0): the CMMQ release's "single-label" path, which it takes
  for NUS-WIDE and MS-COCO (CMMQ release @ 2b17232).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def is_power_of_two(k: int) -> bool:
    """True for 1, 2, 4, 8, ..."""
    k = int(k)
    return k >= 1 and (k & (k - 1)) == 0


def sylvester_hadamard(k: int) -> np.ndarray:
    """The K×K Sylvester Hadamard matrix H_K = H_2 ⊗ H_{K/2} (paper Eq. 4), entries ±1 (int8).

    Equal to ``scipy.linalg.hadamard(k)``. Raises ``ValueError`` if K is not a power of two.
    """
    if not is_power_of_two(k):
        raise ValueError(f"Sylvester Hadamard matrices exist only for powers of two, got {k}")
    h = np.ones((1, 1), dtype=np.int8)
    h2 = np.array([[1, 1], [1, -1]], dtype=np.int8)
    while h.shape[0] < k:
        h = np.kron(h2, h).astype(np.int8)
    return h


def pairwise_hamming(codes: np.ndarray) -> np.ndarray:
    """Hamming distances of all unordered pairs of ±1 rows (i < j), as a 1-d array."""
    c = np.asarray(codes, dtype=np.int64)
    k = c.shape[1]
    d = (k - c @ c.T) // 2
    iu = np.triu_indices(c.shape[0], k=1)
    return d[iu]


@dataclass(frozen=True)
class ProxyCodes:
    """C proxy codes (±1, float32 C×K) and how they were made."""

    codes: torch.Tensor
    construction: str  # "hadamard", "hadamard+negated", "hadamard+negated+random"
    min_distance: int  # minimum pairwise Hamming distance (K when C == 1)
    mean_distance: float
    criteria_met: bool  # False only for C > 2K when no random draw met the acceptance test
    tries: int  # random draws made (0 without random rows)

    def summary(self) -> dict[str, object]:
        """JSON-friendly description (stored with a run)."""
        c, k = self.codes.shape
        return {
            "num_classes": int(c),
            "bits": int(k),
            "construction": self.construction,
            "min_distance": int(self.min_distance),
            "mean_distance": float(self.mean_distance),
            "criteria_met": bool(self.criteria_met),
            "random_tries": int(self.tries),
        }


def _balanced_rows(count: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    rows = np.ones((count, bits), dtype=np.int8)
    for r in range(count):
        rows[r, rng.choice(bits, size=bits // 2, replace=False)] = -1
    return rows


def _stats(codes: np.ndarray) -> tuple[int, float]:
    d = pairwise_hamming(codes)
    if d.size == 0:
        return codes.shape[1], float(codes.shape[1])
    return int(d.min()), float(d.mean())


def hadamard_proxies(
    num_classes: int,
    bits: int,
    rng: np.random.Generator | None = None,
    *,
    max_tries: int = 100,
    keep: str = "best",
) -> ProxyCodes:
    """Proxy codes for ``num_classes`` classes at ``bits`` bits (see the module docstring).

    ``rng`` draws the random rows needed only when C > 2K (a seeded generator keeps runs
    reproducible; the CMMQ release used unseeded Python ``random``). ``keep`` is ``"best"``
    (default) or ``"last"`` (the release's behaviour when the acceptance test is never met).
    """
    if num_classes < 1:
        raise ValueError(f"need at least one class, got {num_classes}")
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', got {keep!r}")
    h = sylvester_hadamard(bits)
    if num_classes <= bits:
        codes = h[:num_classes]
        lo, mean = _stats(codes)
        return ProxyCodes(torch.from_numpy(codes.astype(np.float32)), "hadamard", lo, mean, True, 0)
    h2 = np.concatenate([h, -h], axis=0)
    if num_classes <= 2 * bits:
        codes = h2[:num_classes]
        lo, mean = _stats(codes)
        return ProxyCodes(torch.from_numpy(codes.astype(np.float32)), "hadamard+negated", lo, mean, True, 0)
    if bits < 2:
        raise ValueError(f"{num_classes} classes need more than {bits} bit(s) for distinct proxies")
    rng = rng if rng is not None else np.random.default_rng(0)
    best: tuple[tuple[int, float], np.ndarray] | None = None
    met = False
    tries = 0
    for tries in range(1, max(int(max_tries), 1) + 1):  # noqa: B007 - `tries` is reported after the loop
        candidate = np.concatenate([h2, _balanced_rows(num_classes - 2 * bits, bits, rng)], axis=0)
        lo, mean = _stats(candidate)
        if lo > bits / 4 and mean >= bits / 2:
            best, met = ((lo, mean), candidate), True
            break
        if keep == "last" or best is None or (lo, mean) > best[0]:
            best = ((lo, mean), candidate)
    assert best is not None
    (lo, mean), codes = best
    return ProxyCodes(
        torch.from_numpy(codes.astype(np.float32)), "hadamard+negated+random", lo, mean, met, tries
    )


def tie_vector(bits: int, generator: torch.Generator) -> torch.Tensor:
    """One fixed random ±1 vector (float32, K) used to break voting ties."""
    return torch.randint(0, 2, (bits,), generator=generator).float() * 2 - 1


def majority_vote(labels: torch.Tensor, proxies: torch.Tensor, tie: torch.Tensor) -> torch.Tensor:
    """Per-bit majority vote of the proxies of each item's labels (N×C multi-hot → N×K ±1).

    ``tie`` (K, ±1) supplies the bit wherever the vote sums to exactly 0.
    """
    votes = labels.float() @ proxies.to(labels.device, torch.float32)
    tie = tie.to(votes.device, torch.float32).expand_as(votes)
    return torch.where(votes > 0, 1.0, torch.where(votes < 0, -1.0, tie))


def argmax_assign(labels: torch.Tensor, proxies: torch.Tensor) -> torch.Tensor:
    """The proxy of each item's lowest-index positive label (all-zero rows → class 0); N×K ±1."""
    index = labels.float().argmax(dim=1)
    return proxies.to(labels.device, torch.float32)[index]


def count_ties(labels: torch.Tensor, proxies: torch.Tensor) -> int:
    """Number of (item, bit) votes that tie — how often the tie vector decides a bit."""
    votes = labels.float() @ proxies.to(labels.device, torch.float32)
    return int((votes == 0).sum())


__all__ = [
    "ProxyCodes",
    "argmax_assign",
    "count_ties",
    "hadamard_proxies",
    "is_power_of_two",
    "majority_vote",
    "pairwise_hamming",
    "sylvester_hadamard",
    "tie_vector",
]
