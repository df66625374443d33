"""``symmetric-sample`` (the per-sample reading of the paper's symmetric noise) and the
positives-lost / negatives-gained statistics, checked against independent counts."""

from __future__ import annotations

import numpy as np
import pytest

from xbench import noise
from xbench.noise import SymmetricSampleNoise


def multilabel(n: int, c: int, seed: int, p: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, c)) < p).astype(np.uint8)
    y[np.arange(n), rng.integers(0, c, n)] = 1
    return y


def reference(labels: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The documented draw order, written out sample by sample (no shared code with the model)."""
    n, c = labels.shape
    chosen = rng.random(n) < rate
    positives = [(r, j) for r in range(n) for j in range(c) if labels[r, j] and chosen[r]]
    u = rng.random(len(positives))
    noisy = labels.copy()
    for r in np.flatnonzero(chosen):
        noisy[r] = 0
    for (r, j), ur in zip(positives, u, strict=False):
        others = [k for k in range(c) if k != j]  # uniform over the other C−1 classes, in order
        noisy[r, others[min(int(ur * (c - 1)), c - 2)]] = 1
    return noisy, chosen


def test_matches_reference_procedure():
    labels = multilabel(300, 7, seed=1)
    result = SymmetricSampleNoise().apply(labels, 0.45, np.random.default_rng(5))
    expected, chosen = reference(labels, 0.45, np.random.default_rng(5))
    assert np.array_equal(result.noisy_labels, expected)
    assert result.info["chosen_samples"] == int(chosen.sum())
    assert np.array_equal(result.corrupted, (expected != labels).any(1))


def test_realised_statistics_exact_against_independent_count():
    labels = multilabel(500, 6, seed=2)
    out = noise.inject(labels, "symmetric-sample:0.3", seed=3)
    noisy = out.image.noisy_labels
    s = out.stats["shared"]
    changed_rows = sum(1 for r in range(len(labels)) if any(labels[r, j] != noisy[r, j] for j in range(6)))
    lost = sum(1 for r in range(len(labels)) for j in range(6) if labels[r, j] == 1 and noisy[r, j] == 0)
    gained = sum(1 for r in range(len(labels)) for j in range(6) if labels[r, j] == 0 and noisy[r, j] == 1)
    assert s["num_corrupted"] == changed_rows
    assert s["corrupted_fraction"] == changed_rows / len(labels)
    assert s["positives_lost"] == lost and s["positives_lost_fraction"] == lost / int(labels.sum())
    assert s["negatives_gained"] == gained
    assert s["negatives_gained_fraction"] == gained / int((1 - labels).sum())
    # the corrupted rows are chosen rows; a chosen row stays unchanged only if its positives land on each other
    _, chosen = reference(labels, 0.3, noise.noise_rng(3, noise.NoiseSpec.parse("symmetric-sample:0.3")))
    assert s["chosen_samples"] == int(chosen.sum())
    assert not (out.image.corrupted & ~chosen).any()
    unchanged_chosen = chosen & ~out.image.corrupted
    assert all(labels[r].sum() >= 2 for r in np.flatnonzero(unchanged_chosen))


def test_single_label_every_chosen_sample_changes_and_never_keeps_its_class():
    c = 5
    labels = noise.as_multihot(np.random.default_rng(0).integers(0, c, 4000), c)
    rate = 0.35
    result = SymmetricSampleNoise().apply(labels, rate, np.random.default_rng(9))
    chosen = np.random.default_rng(9).random(len(labels)) < rate
    assert np.array_equal(result.corrupted, chosen)  # one positive: a chosen sample always changes
    assert (result.noisy_labels.sum(1) == 1).all()
    assert not (result.noisy_labels.astype(bool) & labels.astype(bool))[chosen].any()
    # destinations uniform over the other C−1 classes: the realised T is symmetric:ρ's (5 binomial SEs)
    moves = result.info["moves"] / result.info["moves"].sum(1, keepdims=True)
    expected = noise.symmetric_matrix(c, rate)
    tol = 5 * np.sqrt(expected * (1 - expected) / 800)
    assert np.all(np.abs(moves - expected) <= tol)


def test_per_sample_versus_per_label_rate():
    """At equal ρ the per-label reading corrupts far more multi-label samples than ρ; the per-sample one ≈ ρ."""
    labels = multilabel(4000, 10, seed=4, p=0.25)
    per_label = noise.inject(labels, "symmetric:0.4", 0).stats["shared"]["corrupted_fraction"]
    per_sample = noise.inject(labels, "symmetric-sample:0.4", 0).stats["shared"]["corrupted_fraction"]
    k = labels.sum(1)
    # per label: a row with k positives is untouched w.p. (1−ρ)^k (ignoring merges, which only add changes)
    assert per_label >= 1 - np.mean(0.6**k) - 0.03
    assert abs(per_sample - 0.4) < 5 * np.sqrt(0.24 / 4000) and per_sample <= 0.4 + 1e-12 + 5 * np.sqrt(
        0.24 / 4000
    )


@pytest.mark.parametrize("rate", [0.0, 0.5])
def test_deterministic_and_input_untouched(rate):
    labels = multilabel(100, 4, seed=6)
    before = labels.copy()
    a = noise.inject(labels, f"symmetric-sample:{rate}", 11)
    b = noise.inject(labels, f"symmetric-sample:{rate}", 11)
    assert np.array_equal(a.image.noisy_labels, b.image.noisy_labels)
    assert np.array_equal(labels, before)
    if rate == 0.0:
        assert np.array_equal(a.image.noisy_labels, labels)


def test_registered_and_needs_two_classes():
    assert "symmetric-sample" in noise.registry.names()
    with pytest.raises(ValueError, match="at least 2 classes"):
        noise.inject(np.ones((5, 1), dtype=np.uint8), "symmetric-sample:0.2", 0)


def test_lost_and_gained_hand_computed():
    clean = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=np.uint8)
    noisy = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=np.uint8)
    s = noise.realised_stats(clean, noisy, (clean != noisy).any(1))
    assert s["positives_lost"] == 2 and s["positives_lost_fraction"] == 2 / 5
    assert s["negatives_gained"] == 3 and s["negatives_gained_fraction"] == 3 / 7
