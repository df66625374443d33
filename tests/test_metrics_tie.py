"""Tie-averaged AP@R: closed form vs brute force over every tie order, and vs an exact DP.

Definition (docs/metrics.md): the expectation of AP@R over uniformly random
orders inside each group of tied Hamming distances.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xbench.evaluating import metrics


def ap_at(ranked_rel, topk):
    hits, total = 0, 0.0
    for rank, rel in enumerate(ranked_rel[:topk], start=1):
        if rel:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def brute_force_tie_averaged(dist_row, rel_row, topk):
    """Average AP@R over every order of the database that sorts by distance (all tie orders)."""
    groups = [[j for j in range(len(dist_row)) if dist_row[j] == v] for v in sorted(set(dist_row))]
    values = []
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [j for p in perms for j in p]
        values.append(ap_at([rel_row[j] for j in order], topk))
    return sum(values) / len(values)


def dp_tie_averaged(dist_row, rel_row, topk):
    """Exact E[AP@R] by dynamic programming over ranked positions.

    State inside a tie group: (hits before the group, hits so far in the group); each next position
    is relevant with probability (relevant left in group)/(items left in group). Tracks the
    probability of each state and the expected AP numerator restricted to it.
    """
    dist_row, rel_row = np.asarray(dist_row), np.asarray(rel_row, dtype=bool)
    nd = len(dist_row)
    r_cut = nd if topk is None else min(topk, nd)
    prob = {0: 1.0}  # hits so far -> probability
    num = {0: 0.0}  # hits so far -> E[numerator · 1{state}]
    seen = 0
    for v in sorted(set(dist_row.tolist())):
        if seen >= r_cut:
            break
        n = int((dist_row == v).sum())
        r = int(rel_row[dist_row == v].sum())
        steps = min(n, r_cut - seen)
        state = {(h, 0): (prob[h], num[h]) for h in prob}
        for p in range(steps):
            rank = seen + p + 1
            new: dict = {}
            for (h, x), (pr, nu) in state.items():
                left_rel, left = r - x, n - p
                for is_rel, t in ((True, left_rel / left), (False, 1 - left_rel / left)):
                    if t == 0:
                        continue
                    key = (h, x + 1) if is_rel else (h, x)
                    add = (h + x + 1) / rank if is_rel else 0.0
                    a, b = new.get(key, (0.0, 0.0))
                    new[key] = (a + pr * t, b + (nu + pr * add) * t)
            state = new
        prob, num = {}, {}
        for (h, x), (pr, nu) in state.items():
            prob[h + x] = prob.get(h + x, 0.0) + pr
            num[h + x] = num.get(h + x, 0.0) + nu
        seen += steps
    return sum(nu / h for h, nu in num.items() if h > 0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_closed_form_equals_brute_force_over_all_tie_orders(data):
    nd = data.draw(st.integers(1, 6), label="database size")
    bits = data.draw(st.integers(1, 3), label="bits")
    nq = data.draw(st.integers(1, 3), label="queries")
    draw_codes = st.lists(
        st.lists(st.sampled_from([-1, 1]), min_size=bits, max_size=bits), min_size=1, max_size=1
    )
    q = np.array([data.draw(draw_codes)[0] for _ in range(nq)])
    d = np.array([data.draw(draw_codes)[0] for _ in range(nd)])
    ql = np.array(data.draw(st.lists(st.integers(0, 2), min_size=nq, max_size=nq)))
    dl = np.array(data.draw(st.lists(st.integers(0, 2), min_size=nd, max_size=nd)))
    dist = metrics.hamming_distances(q, d)
    rel = ql[:, None] == dl[None, :]
    for topk in [*range(1, nd + 2), None]:
        got = metrics.tie_averaged_average_precisions(q, d, ql, dl, topk=topk)
        want = [
            brute_force_tie_averaged(list(dist[i]), list(rel[i]), nd if topk is None else topk)
            for i in range(nq)
        ]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("labels", ["multi", "class"])
def test_closed_form_equals_exact_dp_on_heavily_tied_codes(labels):
    rng = np.random.default_rng(21)
    nq, nd, bits = 12, 160, 5
    q = rng.choice([-1, 1], size=(nq, bits))
    d = rng.choice([-1, 1], size=(nd, bits))
    if labels == "multi":
        ql = (rng.random((nq, 4)) < 0.3).astype(np.float32)
        dl = (rng.random((nd, 4)) < 0.3).astype(np.float32)
        ql[0] = 0
    else:
        ql, dl = rng.integers(0, 4, nq), rng.integers(0, 3, nd)
    dist = metrics.hamming_distances(q, d)
    rel = metrics.relevance(ql, dl)
    for topk in (1, 2, 17, 40, 159, 160, 500, None):
        got = metrics.tie_averaged_average_precisions(q, d, ql, dl, topk=topk)
        want = [dp_tie_averaged(dist[i], rel[i], topk) for i in range(nq)]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_large_straddling_group_matches_dp():
    # one query, one huge tie group straddling R: exercises long hypergeometric ranges
    nd = 700
    dist = np.zeros(nd, dtype=int)
    dist[90:] = 1
    rng = np.random.default_rng(5)
    rel = rng.random(nd) < 0.35
    q = np.ones((1, 1))
    d = np.where(dist == 0, 1, -1)[:, None]
    ql = np.ones((1, 1))
    dl = rel[:, None].astype(float)
    for topk in (91, 300, 699):
        got = metrics.tie_averaged_average_precisions(q, d, ql, dl, topk=topk)[0]
        assert got == pytest.approx(dp_tie_averaged(dist, rel, topk), abs=1e-9)


def test_random_tie_shuffles_average_to_the_closed_form():
    """Shuffling the database (hence tie orders) and averaging the exact AP converges to it."""
    rng = np.random.default_rng(3)
    nq, nd, bits = 6, 120, 4
    q = rng.choice([-1, 1], size=(nq, bits))
    d = rng.choice([-1, 1], size=(nd, bits))
    ql, dl = rng.integers(0, 3, nq), rng.integers(0, 3, nd)
    want = metrics.tie_averaged_average_precisions(q, d, ql, dl, topk=30)
    runs = []
    for _ in range(400):
        perm = rng.permutation(nd)
        runs.append(metrics.average_precisions(q, d[perm], ql, dl[perm], topk=30))
    runs = np.array(runs)
    sem = runs.std(axis=0) / math.sqrt(len(runs))
    assert np.all(np.abs(runs.mean(axis=0) - want) <= 5 * sem + 1e-12)
    assert np.any(runs.std(axis=0) > 0)  # ties really change the stable-order AP
