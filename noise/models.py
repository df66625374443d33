"""The built-in label-noise models: ``symmetric``, ``symmetric-sample``, ``asymmetric``, ``swap``, ``bitflip``.

Every model works on N×C multi-hot labels, is deterministic given the generator, never
modifies its input, and documents its draw order so that the noisy labels can be
reproduced outside xbench. Sources and the disagreements between public implementations:
docs/noise.md ("How public code differs").

Transition-matrix models (``symmetric``, ``asymmetric``)
    A row-stochastic C×C matrix T gives P(class i becomes class j). **Every positive label
    is moved through T independently**: positive (n, i) becomes class j ~ T[i, ·]; the noisy
    label set of sample n is the union of its positives' destinations (duplicates merge, so
    |ỹ| ≤ |y| and no row loses all its labels). On single-label data this is the classic
    definition — one draw per sample — and ``P(ỹ = j | y = i) = T[i, j]`` exactly.
    The multi-label reading is reading (a) in docs/noise.md (the CMMQ paper applies a C×C
    matrix to multi-hot labels without saying how; this is our choice, marked as a
    reconstruction).
    Draw order: positives in row-major order (``numpy.nonzero``), one uniform u ~ U[0, 1)
    each, destination = the first j with u < Σ_{l ≤ j} T[i, l] (inverse CDF).
"""

from __future__ import annotations

import abc

import numpy as np

from .base import NoiseModel, NoiseResult, move_counts, round_half_up


def symmetric_matrix(num_classes: int, rate: float) -> np.ndarray:
    """T = (1−ρ)·I + ρ/(C−1)·(11ᵀ − I) (Co-teaching; the CMMQ paper's Figure 3)."""
    if num_classes < 2:
        raise ValueError(f"symmetric noise needs at least 2 classes, got {num_classes}")
    t = np.full((num_classes, num_classes), rate / (num_classes - 1), dtype=np.float64)
    np.fill_diagonal(t, 1.0 - rate)
    return t


def pairflip_matrix(num_classes: int, rate: float) -> np.ndarray:
    """T[i, i] = 1−ρ, T[i, (i+1) mod C] = ρ, 0 elsewhere (Co-teaching pair-flip)."""
    if num_classes < 2:
        raise ValueError(f"asymmetric (pair-flip) noise needs at least 2 classes, got {num_classes}")
    t = np.zeros((num_classes, num_classes), dtype=np.float64)
    idx = np.arange(num_classes)
    t[idx, idx] = 1.0 - rate
    t[idx, (idx + 1) % num_classes] += rate
    return t


def sample_through(matrix: np.ndarray, classes: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Destination of each source class by inverse CDF: first j with u < Σ_{l≤j} T[i, l].

    The cumulative sum is set to exactly 1 from each row's last non-zero entry on, so a
    rounding error can never select a zero-probability class.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    cdf = np.cumsum(matrix, axis=1)
    for i in range(len(matrix)):
        last = int(np.flatnonzero(matrix[i] > 0)[-1])
        cdf[i, last:] = 1.0
    dest = np.empty(len(classes), dtype=np.int64)
    for i in np.unique(classes):
        mask = classes == i
        dest[mask] = np.searchsorted(cdf[i], uniforms[mask], side="right")
    return dest


class TransitionNoise(NoiseModel):
    """Each positive label moved independently through a transition matrix (module docstring).

    Subclasses define :meth:`matrix`; a third-party model with its own T only needs that.
    """

    min_classes = 2

    @abc.abstractmethod
    def matrix(self, num_classes: int, rate: float) -> np.ndarray:
        """The C×C row-stochastic transition matrix T for rate ρ."""

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, rate)
        c = labels.shape[1]
        rows, cols = np.nonzero(labels)
        uniforms = rng.random(len(cols))
        dest = sample_through(self.matrix(c, rate), cols, uniforms)
        noisy = np.zeros_like(labels)
        noisy[rows, dest] = 1
        corrupted = (noisy != labels).any(1)
        return NoiseResult(noisy, corrupted, {"moves": move_counts(cols, dest, c)})


class SymmetricNoise(TransitionNoise):
    """Co-teaching symmetric noise: a corrupted label never stays the true one."""

    name = "symmetric"
    description = (
        "each positive label kept w.p. 1−ρ, else moved to one of the other C−1 classes uniformly "
        "(never the true one)"
    )
    definition = (
        "T = (1−ρ)·I + ρ/(C−1)·(11ᵀ−I); every positive label i is redrawn from row T[i] "
        "independently and the noisy set is the union of the draws (duplicates merge). "
        "Single-label: one draw per sample, P(ỹ=j|y=i)=T[i,j]. ρ=0.6, C=6 gives the CMMQ paper's "
        "Fig. 3 (40% diagonal, 12% elsewhere)."
    )
    used_by = (
        "CMMQ (CVPR 2022, §4.2 and Fig. 3; multi-label application: our reading (a), docs/noise.md); "
        "Co-teaching `noisify_multiclass_symmetric` (single-label). Not MRL's 'symmetric', which may keep "
        "the true label and has an off-by-one (penghu-cs/MRL src/noisydataset.py L138-179)."
    )

    def matrix(self, num_classes: int, rate: float) -> np.ndarray:
        return symmetric_matrix(num_classes, rate)


class AsymmetricNoise(TransitionNoise):
    """Co-teaching pair-flip noise: class i → class (i+1) mod C."""

    name = "asymmetric"
    description = "pair-flip: each positive label i moved to class (i+1) mod C w.p. ρ"
    definition = (
        "T[i,i] = 1−ρ, T[i,(i+1) mod C] = ρ; every positive label is moved through T independently, "
        "the noisy set is the union (duplicates merge). Single-label: one draw per sample. "
        "Needs C ≥ 2."
    )
    used_by = (
        "Co-teaching `noisify_pairflip` (single-label) and the CMMQ release's bytecode generator; "
        "the CMMQ paper's Fig. 1/3 captions say 'asymmetric'. Not MRL's 'asymmetric' (a random class "
        "pairing, penghu-cs/MRL src/noisydataset.py L138-179)."
    )

    def matrix(self, num_classes: int, rate: float) -> np.ndarray:
        return pairflip_matrix(num_classes, rate)


class SymmetricSampleNoise(NoiseModel):
    """Per-sample reading of the paper's symmetric noise: a sample is corrupted w.p. ρ, then moved.

    Draw order: ``u = rng.random(N)``; sample n is *chosen* when u[n] < ρ. Then every positive
    of the chosen rows, in row-major order (``numpy.nonzero``), gets one uniform and moves by
    inverse CDF through the rows of T₁ = (11ᵀ − I)/(C−1) — the symmetric T of rate 1, i.e. T's
    off-diagonal destination law: a moved positive lands on one of the other C−1 classes
    uniformly. The noisy set is the union of the destinations (duplicates merge, so |ỹ| ≤ |y|
    and no row ends empty). Rows not chosen keep their labels.

    On single-label data this is exactly ``symmetric:ρ`` (one draw per sample, P(ỹ=j|y=i) =
    T[i, j]). On multi-label data the share of corrupted samples is ρ up to the chosen rows
    whose positives all land on each other (e.g. {a, b} → {b, a}): these count as not
    corrupted, as everywhere in xbench (``corrupted`` = the label vector changed).
    """

    name = "symmetric-sample"
    description = (
        "each sample corrupted w.p. ρ; a corrupted sample's positives all move to other classes "
        "uniformly (the per-sample reading of the paper's symmetric T)"
    )
    definition = (
        "sample n chosen iff u_n < ρ (u ~ U[0,1) per sample); every positive i of a chosen sample is "
        "redrawn from row i of T₁ = (11ᵀ−I)/(C−1) (T's off-diagonal law); the noisy set is the union "
        "of the draws. Single-label: identical in law to symmetric:ρ. Multi-label: ≈ ρ of the samples "
        "change (vs. 1−E[(1−ρ)^|y|] under the per-label symmetric:ρ)."
    )
    used_by = (
        "reading (b)-like per-sample application of the CMMQ paper's symmetric matrix (§4.2, Fig. 3; "
        "docs/noise.md lists the readings); the per-sample rate matches how swap noise (NRCH) and "
        "small-loss selection (keep 1−ρ) count noise"
    )
    min_classes = 2

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, rate)
        c = labels.shape[1]
        chosen = rng.random(labels.shape[0]) < rate
        rows, cols = np.nonzero(labels)
        moving = chosen[rows]
        uniforms = rng.random(int(moving.sum()))
        dest = cols.copy()
        dest[moving] = sample_through(symmetric_matrix(c, 1.0), cols[moving], uniforms)
        noisy = np.zeros_like(labels)
        noisy[rows, dest] = 1
        corrupted = (noisy != labels).any(1)
        return NoiseResult(
            noisy, corrupted, {"moves": move_counts(cols, dest, c), "chosen_samples": int(chosen.sum())}
        )


class SwapNoise(NoiseModel):
    """NRCH / MGSH swap noise: exactly round(ρN) rows, each −1 positive +1 negative.

    Draw order: ``m = round(ρ·N)`` (halves up); the corrupted rows are
    ``sort(rng.choice(eligible, m, replace=False))`` where *eligible* rows have at least one
    positive and one negative; then ``u_off = rng.random(m)`` and ``u_on = rng.random(m)``.
    Row r (with k positives) switches off its ⌊u_off·k⌋-th positive and switches on its
    ⌊u_on·(C−k)⌋-th **original** negative (0-based, in column order). Each corrupted row
    therefore changes in exactly two bits and keeps its label count; a single-label row
    always loses its true label. If fewer than m rows are eligible a ``ValueError`` is raised.
    The sources use ⌊ρN⌋ (NRCH, MGSH NUS-WIDE/IAPR) or round(ρN) (MGSH COCO); we use round.
    """

    name = "swap"
    description = (
        "exactly round(ρ·N) samples, each with one positive label switched off and one negative switched on"
    )
    definition = (
        "choose m = round(ρN) samples uniformly without replacement among those with ≥1 positive and "
        "≥1 negative; in each, switch off one positive (uniform among its 1s) and switch on one "
        "negative (uniform among its original 0s): exactly 2 bits per corrupted sample, label "
        "count preserved, corrupted fraction = m/N exactly."
    )
    used_by = (
        "NRCH `noise/generate.py` and MGSH `noise/generate.py` (noisy multi-label cross-modal hashing), "
        "LonganWANG-cs/NRCH noise/generate.py L14-32"
    )
    min_classes = 2

    @staticmethod
    def num_corrupted(num_samples: int, rate: float) -> int:
        """m = round(ρ·N), halves rounded up."""
        return round_half_up(rate * num_samples)

    def validate(self, labels: np.ndarray, rate: float) -> None:
        super().validate(labels, rate)
        labels = np.asarray(labels)
        n, c = labels.shape
        k = labels.sum(1)
        eligible = int(np.count_nonzero((k >= 1) & (k < c)))
        m = self.num_corrupted(n, rate)
        if m > eligible:
            raise ValueError(
                f"swap:{rate:g} needs {m} samples with at least one positive and one negative "
                f"label, only {eligible} of {n} have both"
            )

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, rate)
        n, c = labels.shape
        k = labels.sum(1).astype(np.int64)
        eligible = np.flatnonzero((k >= 1) & (k < c))
        m = self.num_corrupted(n, rate)
        chosen = np.sort(rng.choice(eligible, size=m, replace=False))
        u_off = rng.random(m)
        u_on = rng.random(m)
        sub = labels[chosen].astype(np.int64)
        k_sel = k[chosen]
        r_off = np.minimum((u_off * k_sel).astype(np.int64), k_sel - 1)
        r_on = np.minimum((u_on * (c - k_sel)).astype(np.int64), c - k_sel - 1)
        off_col = np.argmax(np.cumsum(sub, axis=1) > r_off[:, None], axis=1)
        on_col = np.argmax(np.cumsum(1 - sub, axis=1) > r_on[:, None], axis=1)
        noisy = labels.copy()
        noisy[chosen, off_col] = 0
        noisy[chosen, on_col] = 1
        corrupted = np.zeros(n, dtype=bool)
        corrupted[chosen] = True
        _, cols = np.nonzero(labels)
        moves = move_counts(cols, cols, c)
        np.subtract.at(moves, (off_col, off_col), 1)
        np.add.at(moves, (off_col, on_col), 1)
        return NoiseResult(noisy, corrupted, {"moves": moves})


class BitFlipNoise(NoiseModel):
    """Independent per-bit flips, conditioned so that a labelled sample never ends empty.

    Draw order: ``F = rng.random((N, C)) < ρ`` and ỹ = y XOR F. Then, while some sample that
    has at least one clean label has an empty noisy row, those rows (in increasing index
    order) get a fresh ``rng.random((len(rows), C)) < ρ`` applied to their **clean** labels.
    This is rejection sampling: for a labelled sample, ỹ is distributed as per-bit Bernoulli(ρ)
    flips conditioned on ỹ ≠ 0, so P(ỹ = z) = ρ^d (1−ρ)^(C−d) / (1 − ρ^k (1−ρ)^(C−k)) for
    z ≠ 0, d = Hamming(y, z), k = |y|. A sample without clean labels is flipped unconditionally.
    The realised bit-flip rate is therefore slightly off ρ when ρ^k (1−ρ)^(C−k) is not
    negligible (tiny C); the statistics report the realised rate and ``resampled_rows``.
    """

    name = "bitflip"
    description = (
        "every label bit flipped independently w.p. ρ (redrawn if a labelled sample would end empty)"
    )
    definition = (
        "ỹ_nc = y_nc XOR b_nc, b_nc ~ Bernoulli(ρ) i.i.d.; a sample with ≥1 clean label whose noisy "
        "row is empty gets its flips redrawn until it is not (rejection sampling, i.e. conditioned on "
        "ỹ ≠ 0). Per-bit, so ρ is not comparable with the per-sample rates of the other models."
    )
    used_by = "no public cross-modal code; a per-bit stress test offered by xbench"

    def apply(self, labels: np.ndarray, rate: float, rng: np.random.Generator) -> NoiseResult:
        labels = self.prepared(labels, rate)
        n, c = labels.shape
        noisy = labels ^ (rng.random((n, c)) < rate).astype(np.uint8)
        labelled = labels.sum(1) > 0
        bad = np.flatnonzero(labelled & (noisy.sum(1) == 0))
        resampled, rounds = 0, 0
        while bad.size:
            resampled += bad.size
            rounds += 1
            noisy[bad] = labels[bad] ^ (rng.random((bad.size, c)) < rate).astype(np.uint8)
            bad = bad[noisy[bad].sum(1) == 0]
        corrupted = (noisy != labels).any(1)
        return NoiseResult(
            noisy, corrupted, {"resampled_rows": int(resampled), "resample_rounds": int(rounds)}
        )
