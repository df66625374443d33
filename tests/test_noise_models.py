"""Label-noise models: definitions, exact draw procedures, and statistics (xbench.noise).

Statistical checks use fixed seeds and tolerances of 5 binomial standard errors, so they
neither flake nor pass a wrong definition (e.g. DivideMix-style symmetric noise, which keeps
the true label w.p. 1−ρ+ρ/C, sits > 10 σ away in the Fig. 3 test).
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from xbench import noise
from xbench.noise import (
    AsymmetricNoise,
    BitFlipNoise,
    NoiseResult,
    NoiseSpec,
    SwapNoise,
    SymmetricNoise,
    pairflip_matrix,
    symmetric_matrix,
)

Z = 5.0  # tolerance in binomial standard errors


def binomial_tol(p: float | np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Z standard errors of a proportion, with a floor for p ∈ {0, 1} (where the SE is 0)."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    return Z * np.sqrt(np.maximum(p * (1 - p), 1.0 / n) / n)


def multilabel(n: int, c: int, seed: int, p: float = 0.3) -> np.ndarray:
    """Random multi-hot labels with at least one positive per row and some full/single rows."""
    rng = np.random.default_rng(seed)
    y = (rng.random((n, c)) < p).astype(np.uint8)
    y[np.arange(n), rng.integers(0, c, n)] = 1
    return y


def single_label(per_class: int, c: int, seed: int) -> np.ndarray:
    idx = np.repeat(np.arange(c), per_class)
    return noise.as_multihot(np.random.default_rng(seed).permutation(idx), c)


# --------------------------------------------------------------------------- spec parsing
@pytest.mark.parametrize(
    "text, kind, rate",
    [
        ("symmetric:0.6", "symmetric", 0.6),
        (" Asymmetric : 0.4 ", "asymmetric", 0.4),
        ("swap:0", "swap", 0.0),
        ("none", "none", 0.0),
        ("clean", "none", 0.0),
        ("", "none", 0.0),
        ("none:0", "none", 0.0),
        ("bitflip:.05", "bitflip", 0.05),
    ],
)
def test_spec_parse(text, kind, rate):
    spec = NoiseSpec.parse(text)
    assert (spec.kind, spec.rate) == (kind, rate)


def test_spec_str_roundtrip():
    assert str(NoiseSpec.parse("symmetric:0.60")) == "symmetric:0.6"
    assert str(NoiseSpec.parse("none")) == "none"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("symmetric:1", "rate must be in [0, 1)"),
        ("symmetric:1.5", "rate must be in [0, 1)"),
        ("symmetric:-0.1", "rate must be in [0, 1)"),
        ("symmetric:nan", "rate must be in [0, 1)"),
        ("symmetric:inf", "rate must be in [0, 1)"),
        ("symmetric:abc", "is not a number"),
        ("symmetric", "expected TYPE:RATE"),
        (":0.3", "missing TYPE"),
        ("none:0.3", "takes no rate"),
    ],
)
def test_spec_parse_errors(text, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace(")", r"\)")):
        NoiseSpec.parse(text)


def test_unknown_type_is_value_error_with_suggestion():
    with pytest.raises(ValueError, match="unknown noise model 'symetric' .did you mean 'symmetric'"):
        noise.inject(np.eye(3, dtype=np.uint8), "symetric:0.2", 0)


def test_registry_lists_every_model_with_definition():
    assert noise.registry.names()[:5] == ["none", "symmetric", "asymmetric", "swap", "bitflip"]
    for name in noise.registry.names():
        cls = noise.registry.get(name)
        assert cls.description and cls.definition and cls.used_by


# --------------------------------------------------------------------------- label formats
def test_as_multihot_accepts_indices_and_multihot():
    np.testing.assert_array_equal(noise.as_multihot([2, 0, 1]), [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(
        noise.as_multihot(np.array([1, 0]), num_classes=4), [[0, 1, 0, 0], [1, 0, 0, 0]]
    )
    mh = np.array([[True, False, True], [False, False, False]])
    out = noise.as_multihot(mh)
    assert out.dtype == np.uint8 and out.tolist() == [[1, 0, 1], [0, 0, 0]]
    np.testing.assert_array_equal(noise.as_multihot(mh.astype(float)), out)
    with pytest.raises(ValueError, match="3 columns but num_classes is 4"):
        noise.as_multihot(mh, num_classes=4)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([[0, 2], [1, 0]]),
        np.array([[0, -1]]),
        np.array([[0.5, 1.0]]),
        np.array([[np.nan, 1.0]]),
        np.array([-1, 0, 1]),
        np.array([0.5, 1.0]),
        np.zeros((2, 2, 2)),
        np.array([["a", "b"]]),
    ],
)
def test_as_multihot_rejects(bad):
    with pytest.raises(ValueError, match="labels"):
        noise.as_multihot(bad)
    with pytest.raises(ValueError):
        noise.inject(bad, "symmetric:0.2", 0)


def test_label_type_detection():
    assert noise.label_type(np.eye(4, dtype=np.uint8)) == "single-label"
    assert noise.label_type(np.array([[1, 1, 0], [0, 1, 0]])) == "multi-label"
    assert (
        noise.label_type(np.array([[1, 0, 0], [0, 0, 0]])) == "multi-label"
    )  # an empty row: not single-label


# --------------------------------------------------------------------------- matrices
def test_symmetric_matrix_is_figure_3():
    t = symmetric_matrix(6, 0.6)
    expected = np.full((6, 6), 0.12)
    np.fill_diagonal(expected, 0.4)
    np.testing.assert_allclose(t, expected, atol=1e-15)
    np.testing.assert_allclose(t.sum(1), 1.0)


def test_pairflip_matrix():
    np.testing.assert_allclose(
        pairflip_matrix(4, 0.3), [[0.7, 0.3, 0, 0], [0, 0.7, 0.3, 0], [0, 0, 0.7, 0.3], [0.3, 0, 0, 0.7]]
    )
    np.testing.assert_allclose(pairflip_matrix(2, 0.25), [[0.75, 0.25], [0.25, 0.75]])


@pytest.mark.parametrize("spec", ["asymmetric:0.3", "symmetric:0.3", "asymmetric:0", "swap:0.2"])
def test_needs_two_classes(spec):
    with pytest.raises(ValueError, match="at least 2 classes"):
        noise.inject(np.ones((5, 1), dtype=np.uint8), spec, 0)


# --------------------------------------------------------------------------- exact procedures
def reference_transition(labels: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The documented procedure, one positive at a time: row-major, one uniform each, inverse CDF."""
    n, c = labels.shape
    positives = [(r, i) for r in range(n) for i in range(c) if labels[r, i]]
    u = rng.random(len(positives))
    out = np.zeros_like(labels)
    for (r, i), ur in zip(positives, u, strict=False):
        acc = 0.0
        for j in range(c):
            acc += t[i, j]
            if ur < acc or j == c - 1:
                break
        out[r, j] = 1
    return out


@pytest.mark.parametrize(
    "cls, matrix", [(SymmetricNoise, symmetric_matrix), (AsymmetricNoise, pairflip_matrix)]
)
def test_transition_models_match_reference_procedure(cls, matrix):
    y = multilabel(60, 5, seed=1)
    result = cls().apply(y, 0.45, np.random.default_rng(7))
    expected = reference_transition(y, matrix(5, 0.45), np.random.default_rng(7))
    np.testing.assert_array_equal(result.noisy_labels, expected)
    np.testing.assert_array_equal(result.corrupted, (expected != y).any(1))
    assert result.info["moves"].sum() == y.sum()


def reference_swap(labels: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    n, c = labels.shape
    k = labels.sum(1)
    eligible = np.flatnonzero((k >= 1) & (k < c))
    m = math.floor(rate * n + 0.5)
    chosen = np.sort(rng.choice(eligible, size=m, replace=False))
    u_off, u_on = rng.random(m), rng.random(m)
    out = labels.copy()
    for r, a, b in zip(chosen, u_off, u_on, strict=False):
        ones = [j for j in range(c) if labels[r, j]]
        zeros = [j for j in range(c) if not labels[r, j]]
        out[r, ones[int(a * len(ones))]] = 0
        out[r, zeros[int(b * len(zeros))]] = 1
    return out


def test_swap_matches_reference_procedure():
    y = multilabel(80, 6, seed=2)
    y[0] = 1  # a full row: not eligible
    result = SwapNoise().apply(y, 0.4, np.random.default_rng(11))
    np.testing.assert_array_equal(result.noisy_labels, reference_swap(y, 0.4, np.random.default_rng(11)))


def reference_bitflip(labels: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    n, c = labels.shape
    out = labels ^ (rng.random((n, c)) < rate)
    bad = [r for r in range(n) if labels[r].any() and not out[r].any()]
    while bad:
        redraw = rng.random((len(bad), c)) < rate
        for row, r in zip(redraw, bad, strict=False):
            out[r] = labels[r] ^ row
        bad = [r for r in bad if not out[r].any()]
    return out.astype(np.uint8)


def test_bitflip_matches_reference_procedure():
    y = multilabel(100, 3, seed=3, p=0.1)
    y[:5] = 0  # unlabelled rows are flipped unconditionally
    result = BitFlipNoise().apply(y, 0.7, np.random.default_rng(5))
    np.testing.assert_array_equal(result.noisy_labels, reference_bitflip(y, 0.7, np.random.default_rng(5)))
    assert result.info["resampled_rows"] > 0


# --------------------------------------------------------------------------- statistics of the models
def test_symmetric_single_label_transition_matches_figure_3():
    y = single_label(5000, 6, seed=0)
    out = noise.inject(y, "symmetric:0.6", seed=0)
    stats = out.stats["shared"]
    t = symmetric_matrix(6, 0.6)
    emp = np.array(stats["transition_matrix"])
    np.testing.assert_array_less(np.abs(emp - t), binomial_tol(t, 5000))
    np.testing.assert_allclose(np.array(stats["positive_transition_matrix"]), emp)  # single-label: identical
    assert abs(stats["corrupted_fraction"] - 0.6) < binomial_tol(0.6, len(y))
    assert stats["label_type"] == "single-label"
    assert (out.image.noisy_labels.sum(1) == 1).all()  # one draw per sample: still one label each
    assert stats["bits_changed_per_corrupted"] == 2.0


def test_asymmetric_single_label_is_pair_flip():
    y = single_label(4000, 5, seed=1)
    out = noise.inject(y, "asymmetric:0.4", seed=3)
    emp = np.array(out.stats["shared"]["transition_matrix"])
    t = hand_pairflip(5, 0.4)
    assert (emp[t == 0] == 0).all()  # never anywhere but i or i+1
    np.testing.assert_array_less(np.abs(emp - t), binomial_tol(t, 4000))
    assert abs(out.stats["shared"]["corrupted_fraction"] - 0.4) < binomial_tol(0.4, len(y))


def hand_symmetric(c: int, rate: float) -> np.ndarray:
    return np.where(np.eye(c, dtype=bool), 1 - rate, rate / (c - 1))


def hand_pairflip(c: int, rate: float) -> np.ndarray:
    return (1 - rate) * np.eye(c) + rate * np.roll(np.eye(c), 1, axis=1)


@pytest.mark.parametrize(
    "spec, matrix", [("symmetric:0.6", hand_symmetric), ("asymmetric:0.3", hand_pairflip)]
)
def test_multilabel_positives_move_through_matrix(spec, matrix):
    y = multilabel(6000, 8, seed=4)
    out = noise.inject(y, spec, seed=1)
    rate = NoiseSpec.parse(spec).rate
    moves = out.image.info["moves"]
    np.testing.assert_array_equal(moves.sum(1), y.sum(0))
    emp = np.array(out.stats["shared"]["positive_transition_matrix"])
    t = matrix(8, rate)
    np.testing.assert_array_less(np.abs(emp - t), binomial_tol(t, y.sum(0)[:, None]))
    noisy = out.image.noisy_labels
    assert (noisy.sum(1) <= y.sum(1)).all() and (noisy.sum(1) >= 1).all()  # duplicates merge, never empty
    # a row is corrupted unless each positive stayed or (rarely) positives moved onto each other
    stayed = (1 - rate) ** y.sum(1)
    expected = 1 - stayed.mean()
    assert out.stats["shared"]["corrupted_fraction"] <= expected + binomial_tol(expected, len(y))


def test_swap_exact_counts():
    y = multilabel(1001, 7, seed=5)
    y[:20] = 0  # unlabelled rows are never chosen
    y[20:40] = 1  # full rows neither
    out = noise.inject(y, "swap:0.35", seed=2)
    noisy, corrupted = out.image.noisy_labels, out.image.corrupted
    m = math.floor(0.35 * 1001 + 0.5)
    assert corrupted.sum() == m == out.stats["shared"]["num_corrupted"]
    assert not corrupted[:40].any()
    diff = noisy.astype(int) - y.astype(int)
    assert ((np.abs(diff).sum(1) == 2) == corrupted).all()
    assert ((diff == -1).sum(1)[corrupted] == 1).all() and ((diff == 1).sum(1)[corrupted] == 1).all()
    np.testing.assert_array_equal(noisy.sum(1), y.sum(1))
    assert out.stats["shared"]["bits_changed_per_corrupted"] == 2.0
    assert out.stats["shared"]["labels_per_sample_noisy"] == out.stats["shared"]["labels_per_sample_clean"]


def test_swap_rounding_half_up_and_single_label():
    y = single_label(1, 10, seed=0)  # 10 samples
    out = noise.inject(y, "swap:0.25", seed=0)
    assert out.image.corrupted.sum() == 3  # round(2.5) = 3, not Python's banker's 2
    assert (out.image.noisy_labels.sum(1) == 1).all()
    assert ((out.image.noisy_labels != y).any(1) == out.image.corrupted).all()
    assert ((out.image.noisy_labels & y).sum(1)[out.image.corrupted] == 0).all()  # true label always lost


def test_swap_picks_bits_uniformly():
    y = np.zeros((20000, 4), dtype=np.uint8)
    y[:, :2] = 1  # every row {0, 1}: off ∈ {0, 1}, on ∈ {2, 3}, each w.p. 1/2
    out = noise.inject(y, "swap:0.5", seed=9)
    sel = out.image.noisy_labels[out.image.corrupted]
    assert len(sel) == 10000
    for col in range(4):
        share = sel[:, col].mean()
        assert abs(share - 0.5) < binomial_tol(0.5, len(sel))


def test_swap_not_enough_eligible_rows():
    y = np.ones((10, 3), dtype=np.uint8)
    y[:2, 0] = 0
    with pytest.raises(ValueError, match="needs 5 samples .* only 2 of 10"):
        noise.inject(y, "swap:0.5", 0)


def test_bitflip_rate_and_conditional_distribution():
    """C = 3, ρ = 0.6: P(ỹ = z | y) = ρ^d (1−ρ)^(3−d) / (1 − ρ^k (1−ρ)^(3−k)) for z ≠ 0."""
    rate, c = 0.6, 3
    y = np.tile(np.array([[1, 0, 0], [1, 1, 0]], dtype=np.uint8), (6000, 1))
    out = noise.inject(y, f"bitflip:{rate}", seed=4)
    noisy = out.image.noisy_labels
    assert noisy.any(1).all()
    for clean in ([1, 0, 0], [1, 1, 0]):
        rows = (y == clean).all(1)
        k = sum(clean)
        z_norm = 1 - rate**k * (1 - rate) ** (c - k)
        for z in itertools.product((0, 1), repeat=c):
            if not any(z):
                continue
            d = sum(a != b for a, b in zip(z, clean, strict=False))
            p = rate**d * (1 - rate) ** (c - d) / z_norm
            emp = (noisy[rows] == z).all(1).mean()
            assert abs(emp - p) < binomial_tol(p, rows.sum()), (clean, z, emp, p)


def test_bitflip_per_bit_rate_with_many_classes():
    y = multilabel(3000, 24, seed=6, p=0.15)
    out = noise.inject(y, "bitflip:0.1", seed=0)
    stats = out.stats["shared"]
    assert abs(stats["bits_changed_fraction"] - 0.1) < binomial_tol(0.1, y.size)
    assert stats["empty_noisy_rows"] == 0


# --------------------------------------------------------------------------- inject: seeds, modalities, purity
MODELS = ["none", "symmetric:0.5", "asymmetric:0.5", "swap:0.5", "bitflip:0.2"]


@pytest.mark.parametrize("spec", MODELS)
def test_same_seed_same_labels_and_input_untouched(spec):
    y = multilabel(300, 6, seed=7)
    frozen = y.copy()
    y.flags.writeable = False  # any in-place write would raise
    a = noise.inject(y, spec, seed=3)
    b = noise.inject(y, spec, seed=3)
    np.testing.assert_array_equal(y, frozen)
    np.testing.assert_array_equal(a.image.noisy_labels, b.image.noisy_labels)
    np.testing.assert_array_equal(a.image.corrupted, b.image.corrupted)
    assert a.stats == b.stats
    assert a.image.noisy_labels is not y
    assert a.image.noisy_labels.dtype == np.uint8 and a.image.corrupted.dtype == bool
    np.testing.assert_array_equal(a.image.corrupted, (a.image.noisy_labels != y).any(1))
    if spec != "none":
        c = noise.inject(y, spec, seed=4)
        assert not np.array_equal(a.image.noisy_labels, c.image.noisy_labels)


@pytest.mark.parametrize("spec", MODELS)
def test_rate_zero_changes_nothing(spec):
    y = multilabel(200, 5, seed=8)
    kind = NoiseSpec.parse(spec).kind
    out = noise.inject(y, "none" if kind == "none" else f"{kind}:0", seed=0)
    np.testing.assert_array_equal(out.image.noisy_labels, y)
    assert not out.image.corrupted.any() and out.stats["shared"]["bits_changed"] == 0


def test_models_do_not_modify_input_directly():
    y = multilabel(100, 5, seed=9)
    frozen = y.copy()
    for model in (SymmetricNoise(), AsymmetricNoise(), SwapNoise(), BitFlipNoise(), noise.NoNoise()):
        model.apply(y, 0.5, np.random.default_rng(0))
        np.testing.assert_array_equal(y, frozen)


def test_shared_vs_per_modality():
    y = multilabel(500, 6, seed=10)
    shared = noise.inject(y, "symmetric:0.4", seed=1)
    assert shared.shared and shared.text is None and shared.text_side is shared.image
    assert set(shared.stats) >= {"spec", "per_modality", "shared"} and "image" not in shared.stats
    per = noise.inject(y, "symmetric:0.4", seed=1, per_modality=True)
    assert not per.shared and per.stats["per_modality"] is True
    np.testing.assert_array_equal(per.image.noisy_labels, shared.image.noisy_labels)
    assert not np.array_equal(per.text.noisy_labels, per.image.noisy_labels)
    differ = (per.text.noisy_labels != per.image.noisy_labels).any(1).mean()
    assert per.stats["modality_disagreement_fraction"] == differ
    assert per.stats["text"]["corrupted_fraction"] == per.text.corrupted.mean()


def test_indices_input_and_json_stats():
    idx = np.random.default_rng(0).integers(0, 4, 400)
    out = noise.inject(idx, "symmetric:0.3", seed=0, num_classes=5)
    assert out.image.noisy_labels.shape == (400, 5)
    stats = json.loads(json.dumps(out.stats, allow_nan=False))
    assert stats["shared"]["transition_matrix"][4] == [None] * 5  # class 4 never occurs
    assert stats["shared"]["positive_transition_matrix"][4] == [None] * 5
    assert stats["spec"] == "symmetric:0.3" and stats["model"] == "symmetric" and stats["seed"] == 0


def test_realised_stats_hand_computed():
    clean = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=np.uint8)
    noisy = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=np.uint8)
    corrupted = np.array([True, False, True, True])
    moves = np.array([[2, 1, 0], [0, 1, 1], [0, 0, 0]])
    s = noise.realised_stats(clean, noisy, corrupted, moves)
    assert s["num_samples"] == 4 and s["num_classes"] == 3 and s["label_type"] == "multi-label"
    assert s["num_corrupted"] == 3 and s["corrupted_fraction"] == 0.75
    assert s["bits_changed"] == 5 and s["bits_changed_fraction"] == 5 / 12
    assert s["bits_changed_per_corrupted"] == 5 / 3
    assert s["labels_per_sample_clean"] == 5 / 4 and s["labels_per_sample_noisy"] == 6 / 4
    assert s["disjoint_fraction"] == 0.5  # rows 0 and 2 share nothing with their clean set
    assert s["empty_noisy_rows"] == 0
    # class 0 in rows 0, 1, 3 → noisy contains 0 in rows 1, 3; contains 1 in rows 0, 1; contains 2 in row 3
    assert s["transition_matrix"] == [[2 / 3, 2 / 3, 1 / 3], [1 / 2, 1 / 2, 1 / 2], [None, None, None]]
    assert s["positive_transition_matrix"] == [[2 / 3, 1 / 3, 0.0], [0.0, 0.5, 0.5], [None, None, None]]
    assert noise.realised_stats(clean, noisy, corrupted)["positive_transition_matrix"] is None


def test_inject_rejects_malformed_plugin_output():
    class Liar(noise.NoiseModel):
        name = "liar"
        description = "flips a bit but reports nothing"

        def apply(self, labels, rate, rng):
            out = np.array(labels, dtype=np.uint8)
            out[0, 0] ^= 1
            return NoiseResult(out, np.zeros(len(out), dtype=bool))

    noise.registry.register("liar", Liar)
    try:
        with pytest.raises(ValueError, match="corrupted mask"):
            noise.inject(np.eye(3, dtype=np.uint8), "liar:0.1", 0)
    finally:
        noise.registry.unregister("liar")


def test_real_wikipedia_labels(shared_data):
    """The SVCL Wikipedia training categories (2,173 single-label pairs, 10 classes) under Fig. 3 noise."""
    path = shared_data / "wikipedia" / "trainset_txt_img_cat.list"
    if not path.is_file():
        pytest.skip("wikipedia list files not present")
    cats = np.array([int(line.split("\t")[-1]) - 1 for line in path.read_text().splitlines() if line.strip()])
    out = noise.inject(cats, "symmetric:0.6", seed=0, num_classes=10)
    stats = out.stats["shared"]
    assert stats["num_samples"] == 2173 and stats["label_type"] == "single-label"
    assert abs(stats["corrupted_fraction"] - 0.6) < binomial_tol(0.6, 2173)
    counts = np.bincount(cats, minlength=10)
    emp = np.array(stats["transition_matrix"])
    t = symmetric_matrix(10, 0.6)
    np.testing.assert_array_less(np.abs(emp - t), binomial_tol(t, counts[:, None]))
