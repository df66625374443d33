"""Statistics against known answers: scipy on fixed examples, brute-force enumeration, hand-computed Holm."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from xbench.reporting import stats


def _ap(seed: int, n: int, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.beta(2, 3, n) + shift, 0, 1)


# ---------------------------------------------------------------------------------------- intervals


def test_one_seed_interval_is_scipys_percentile_bootstrap():
    x = _ap(1, 60)
    ci = stats.bootstrap_ci(x, level=0.95, n_resamples=2000, rng=7)
    ref = sps.bootstrap(
        (x,),
        np.mean,
        n_resamples=2000,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(7),
    ).confidence_interval
    assert (ci.low, ci.high) == (pytest.approx(ref.low, abs=1e-15), pytest.approx(ref.high, abs=1e-15))
    assert ci.estimate == pytest.approx(x.mean()) and ci.n_seeds == 1 and ci.n_queries == 60
    # and it is the interval of the mean: close to the normal-theory t interval for n = 60
    half = sps.t.ppf(0.975, 59) * x.std(ddof=1) / math.sqrt(60)
    assert ci.half_width == pytest.approx(half, rel=0.08)
    assert ci.low < x.mean() < ci.high
    # a 90 % interval is narrower
    assert stats.bootstrap_ci(x, level=0.90, n_resamples=2000, rng=7).half_width < ci.half_width


def test_interval_is_seeded_and_reproducible():
    x = [_ap(1, 50), _ap(2, 50), _ap(3, 50)]
    a = stats.bootstrap_ci(x, n_resamples=500, rng=3)
    assert a == stats.bootstrap_ci(x, n_resamples=500, rng=3)
    assert a != stats.bootstrap_ci(x, n_resamples=500, rng=4)
    r1 = stats.cell_rng(0, "symmetric:0.6", "cmmq", 16).random()
    assert r1 == stats.cell_rng(0, "symmetric:0.6", "cmmq", 16).random()
    assert r1 != stats.cell_rng(0, "symmetric:0.6", "cmmq", 32).random()


def test_nested_bootstrap_variance_matches_the_two_stage_formula():
    """Var of the two-stage resampled mean = (1/S)·[(1/S)Σ(m_s − m̄)² + (1/S)Σ v_s/n_s]
    (law of total variance: pick a seed, then n_s of its queries). Dropping either stage fails."""
    seeds = [_ap(10, 40, 0.0), _ap(11, 30, 0.08), _ap(12, 50, -0.05), _ap(13, 40, 0.03)]
    s = len(seeds)
    m = np.array([v.mean() for v in seeds])
    between = ((m - m.mean()) ** 2).mean()
    within = np.mean([v.var() / v.size for v in seeds])
    expected = (between + within) / s
    dist = stats.nested_bootstrap_means(seeds, 40000, np.random.default_rng(0))
    assert dist.var() == pytest.approx(expected, rel=0.04)
    assert dist.mean() == pytest.approx(stats.cell_estimate(seeds), abs=3 * math.sqrt(expected / 40000))
    assert between / s < 0.8 * expected and within / s < 0.8 * expected  # both stages matter here


def test_nested_interval_with_one_query_per_seed_is_the_bootstrap_over_seeds():
    x = _ap(5, 40)
    ours = stats.bootstrap_ci([[v] for v in x], n_resamples=20000, rng=1)
    ref = sps.bootstrap(
        (x,), np.mean, n_resamples=20000, method="percentile", rng=np.random.default_rng(2)
    ).confidence_interval
    assert ours.n_seeds == 40
    assert ours.low == pytest.approx(ref.low, abs=0.006) and ours.high == pytest.approx(ref.high, abs=0.006)


def test_degenerate_and_bad_inputs():
    ci = stats.bootstrap_ci(np.full(5, 0.5))
    assert (ci.low, ci.estimate, ci.high) == (0.5, 0.5, 0.5)
    with pytest.raises(stats.StatsInputError, match="level"):
        stats.bootstrap_ci([0.1, 0.2], level=95)
    with pytest.raises(stats.StatsInputError, match="non-finite"):
        stats.bootstrap_ci([0.1, np.nan])
    with pytest.raises(stats.StatsInputError, match="b: seed 0 has 2 queries but a has 3"):
        stats.paired_units([[1, 2, 3]], [[1, 2]])


# ---------------------------------------------------------------------------------------- paired tests


def _bruteforce_signflip(units) -> float:
    """Independent reference: enumerate every sign vector with itertools and count."""
    units = [float(u) for u in units]
    t = abs(sum(units))
    hits = sum(
        abs(sum(s * u for s, u in zip(signs, units, strict=True))) >= t - 1e-12
        for signs in itertools.product((1, -1), repeat=len(units))
    )
    return hits / 2 ** len(units)


def test_signflip_exact_equals_bruteforce_count_on_a_tiny_example():
    units = [0.3, -0.1, 0.25, 0.05, 0.2, -0.15]
    p, kind = stats.signflip_pvalue(units)
    assert kind == "exact"
    assert p == _bruteforce_signflip(units)
    assert p == 20 / 64
    # by hand: T = 6 is reached only by all + / all − signs; for (3, −1, 1), T = 3 and |Σ ε u| takes
    # the values 5, 3, 3, 1 (and mirror images), so 6 of the 8 sign vectors are at least as extreme
    assert stats.signflip_pvalue([1, 2, 3])[0] == 2 / 8
    assert stats.signflip_pvalue([3, -1, 1])[0] == 6 / 8
    tied = [0.1, 0.1, -0.1, 0.1]  # ties in the null distribution count as "at least as extreme"
    assert stats.signflip_pvalue(tied)[0] == _bruteforce_signflip(tied) == 10 / 16


def test_signflip_matches_scipy_permutation_test():
    a, b = _ap(20, 12), _ap(21, 12)
    ref = sps.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=10**6,
        alternative="two-sided",
    ).pvalue
    ours = stats.paired_test([a], [b], "signflip")
    assert ours == pytest.approx(ref, abs=1e-12)
    # Monte Carlo regime (n > 16 units): close to scipy's own Monte Carlo answer
    a, b = _ap(22, 40), _ap(23, 40, 0.05)
    ref = sps.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=50000,
        alternative="two-sided",
        rng=np.random.default_rng(0),
    ).pvalue
    p, kind = stats.signflip_pvalue(stats.paired_units([a], [b]), n_resamples=50000, rng=1)
    assert kind == "monte-carlo" and p == pytest.approx(ref, abs=0.01)
    assert 0 < p < 1
    # p = (1 + count)/(B + 1): a difference no random sign vector reaches gives 1/(B + 1), never 0
    assert stats.signflip_pvalue(np.full(30, 0.01), n_resamples=99)[0] == 1 / 100


def test_wilcoxon_matches_scipy_and_exact_enumeration():
    a, b = _ap(30, 10), _ap(31, 10)
    d = a - b
    p = stats.paired_test([a], [b], "wilcoxon")
    assert p == pytest.approx(sps.wilcoxon(d).pvalue, abs=1e-15)
    ranks = sps.rankdata(np.abs(d))
    w_plus = ranks[d > 0].sum()
    w = min(w_plus, ranks.sum() - w_plus)
    null = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s > 0)
        for signs in itertools.product((1, -1), repeat=10)
    ]
    assert p == pytest.approx(min(1.0, 2 * np.mean(np.array(null) <= w + 1e-9)), abs=1e-12)


def test_paired_units_average_over_seeds_per_query():
    a = [np.array([0.5, 0.7, 0.2]), np.array([0.4, 0.9, 0.3])]
    b = [np.array([0.1, 0.7, 0.3]), np.array([0.2, 0.6, 0.3])]
    u = stats.paired_units(a, b, aligned=True)
    np.testing.assert_allclose(u, [(0.4 + 0.2) / 6, (0.0 + 0.3) / 6, (-0.1 + 0.0) / 6])
    assert u.sum() == pytest.approx(stats.cell_estimate(a) - stats.cell_estimate(b))
    v = stats.paired_units(a, b, aligned=False)
    assert v.size == 6 and v.sum() == pytest.approx(u.sum())


def test_paired_interval_resamples_the_differences():
    a, b = _ap(40, 50), _ap(40, 50, 0.02)  # b = a + 0.02 except where clipped
    ci = stats.paired_ci([a], [b], n_resamples=3000, rng=2)
    ref = sps.bootstrap(
        (a - b,), np.mean, n_resamples=3000, method="percentile", rng=np.random.default_rng(2)
    ).confidence_interval
    assert (ci.low, ci.high) == (pytest.approx(ref.low), pytest.approx(ref.high))
    assert ci.high < 0  # the tiny, consistent difference is resolved by pairing
    unpaired = stats.bootstrap_ci(a, n_resamples=3000, rng=2).half_width
    assert ci.half_width < unpaired / 5


# ---------------------------------------------------------------------------------------- Holm


def test_holm_hand_computation():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max-accumulated 0.06
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.01, np.nan, 0.02]), [0.02, np.nan, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(stats.holm([0.2]), [0.2])
    assert stats.holm([]).size == 0


# ---------------------------------------------------------------------------------------- whole tables


def _cells():
    def sample(shift, noise, seeds=(0, 1)):
        # shared per-query difficulty (seeded by the seed) + a method's own noise (seeded by ``noise``)
        return stats.Sample(
            tuple(seeds),
            [_ap(100 + s, 30, shift) + np.random.default_rng(noise + s).normal(0, 0.03, 30) for s in seeds],
            [np.arange(30) for _ in seeds],
        )

    return {
        ("none", ("synthetic", 16, "i2t")): {
            "A": sample(0.15, 1),
            "B": sample(0.0, 2),
            "C": sample(0.145, 3),
        },
        ("none", ("synthetic", 32, "i2t")): {"A": sample(0.0, 4), "B": sample(0.001, 5)},
        ("noisy", ("synthetic", 16, "i2t")): {"A": sample(0.0, 6), "B": sample(0.1, 7, seeds=(1, 2))},
    }


def test_compare_against_best_with_holm_per_table():
    out = stats.compare(_cells(), n_resamples=999, seed=0)
    by = {(c.table, c.key[1], c.b): c for c in out}
    assert {(c.table, c.key[1], c.a, c.b) for c in out} == {
        ("none", 16, "A", "C"),
        ("none", 16, "A", "B"),
        ("none", 32, "B", "A"),
        ("noisy", 16, "B", "A"),
    }
    big = by[("none", 16, "B")]
    assert big.diff == pytest.approx(big.mean_a - big.mean_b) and big.low < big.diff < big.high
    assert big.p < 0.01 and big.significant()
    assert not by[("none", 16, "C")].significant() and not by[("none", 32, "A")].significant()
    family = [by[("none", 16, "B")], by[("none", 16, "C")], by[("none", 32, "A")]]
    np.testing.assert_allclose([c.p_holm for c in family], stats.holm([c.p for c in family]))
    noisy = by[("noisy", 16, "A")]
    assert noisy.seeds == (1,) and "seeds 0, 2 not in both" in noisy.note and noisy.p_holm == noisy.p
    tied = stats.tied_with_best(out)
    assert ("none", ("synthetic", 16, "i2t"), "C") in tied and (
        "none",
        ("synthetic", 16, "i2t"),
        "B",
    ) not in tied
    assert out == stats.compare(_cells(), n_resamples=999, seed=0)  # reproducible


def test_compare_two_named_methods_and_unpaired_queries():
    cells = _cells()
    out = stats.compare(cells, pair=("B", "A"), test="wilcoxon", n_resamples=999)
    assert [(c.table, c.key[1]) for c in out] == [("none", 16), ("none", 32), ("noisy", 16)]
    assert all(c.a == "B" and c.test == "wilcoxon" for c in out)
    cells[("none", ("synthetic", 16, "i2t"))]["B"].queries[0] = np.arange(1, 31)
    bad = stats.compare(cells, pair=("B", "A"), n_resamples=99)[0]
    assert math.isnan(bad.p) and "different queries" in bad.note
    with pytest.raises(stats.StatsInputError, match="test"):
        stats.compare(cells, test="ttest")
