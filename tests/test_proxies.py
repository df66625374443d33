"""Hadamard proxy codes and their assignment (methods/proxies.py; CMMQ §3.2, CSQ:
swuxyj/DeepHash-pytorch @ ab14068 CSQ.py L72-113)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from xbench.methods.proxies import (
    argmax_assign,
    count_ties,
    hadamard_proxies,
    is_power_of_two,
    majority_vote,
    pairwise_hamming,
    sylvester_hadamard,
    tie_vector,
)

H4 = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])


def test_sylvester_h4_by_hand():
    assert np.array_equal(sylvester_hadamard(4), H4)
    assert np.array_equal(sylvester_hadamard(1), [[1]])
    assert np.array_equal(sylvester_hadamard(2), [[1, 1], [1, -1]])


@pytest.mark.parametrize("k", [1, 2, 4, 8, 16, 32, 64, 128])
def test_sylvester_matches_scipy_and_is_orthogonal(k):
    h = sylvester_hadamard(k)
    assert np.array_equal(h, scipy.linalg.hadamard(k))
    assert np.array_equal(h.astype(int) @ h.T.astype(int), k * np.eye(k, dtype=int))


@pytest.mark.parametrize("k", [0, 3, 12, 48, 96])
def test_non_powers_of_two_refused(k):
    assert not is_power_of_two(k)
    with pytest.raises(ValueError, match="powers of two"):
        sylvester_hadamard(k)


@pytest.mark.parametrize("k", [32, 64, 128])
def test_rows_are_k_over_2_apart_when_c_le_k(k):
    p = hadamard_proxies(24, k)
    assert p.construction == "hadamard"
    assert np.array_equal(p.codes.numpy(), scipy.linalg.hadamard(k)[:24])
    d = pairwise_hamming(p.codes.numpy())
    assert d.shape == (24 * 23 // 2,)
    assert (d == k // 2).all()
    assert p.min_distance == k // 2 and p.mean_distance == k / 2 and p.criteria_met


def test_negated_block_when_k_lt_c_le_2k():
    p = hadamard_proxies(6, 4)
    expected = np.concatenate([H4, -H4])[:6]
    assert p.construction == "hadamard+negated"
    assert np.array_equal(p.codes.numpy(), expected)
    c = p.codes.numpy().astype(int)
    dist = (4 - c @ c.T) // 2
    expected_dist = np.array(
        [
            [0, 2, 2, 2, 4, 2],
            [2, 0, 2, 2, 2, 4],
            [2, 2, 0, 2, 2, 2],
            [2, 2, 2, 0, 2, 2],
            [4, 2, 2, 2, 0, 2],
            [2, 4, 2, 2, 2, 0],
        ]
    )
    assert np.array_equal(dist, expected_dist)
    assert p.min_distance == 2


def test_random_balanced_rows_beyond_2k():
    p = hadamard_proxies(40, 16, np.random.default_rng(3))
    codes = p.codes.numpy()
    h = scipy.linalg.hadamard(16)
    assert p.construction == "hadamard+negated+random"
    assert np.array_equal(codes[:32], np.concatenate([h, -h]))
    assert (codes[32:].sum(1) == 0).all()  # balanced: K/2 entries −1
    d = pairwise_hamming(codes)
    assert p.min_distance == d.min() and p.mean_distance == pytest.approx(d.mean())
    assert p.criteria_met == (d.min() > 4 and d.mean() >= 8)
    again = hadamard_proxies(40, 16, np.random.default_rng(3))
    assert torch.equal(again.codes, p.codes)  # seeded → reproducible


def test_unreachable_criteria_reported_best_and_last():
    # 2 bits, 5 classes: [H2; −H2] already uses all 4 balanced/unbalanced codes, the random
    # balanced row must duplicate a row → distance 0, the criteria can never be met.
    best = hadamard_proxies(5, 2, np.random.default_rng(0), max_tries=5, keep="best")
    last = hadamard_proxies(5, 2, np.random.default_rng(0), max_tries=5, keep="last")
    for p in (best, last):
        assert not p.criteria_met and p.min_distance == 0 and p.tries == 5
        assert p.codes.shape == (5, 2)
        assert p.codes[4].sum() == 0


def test_best_keeps_largest_minimum_distance():
    rng_best, rng_last = np.random.default_rng(11), np.random.default_rng(11)
    best = hadamard_proxies(12, 4, rng_best, max_tries=30, keep="best")
    last = hadamard_proxies(12, 4, rng_last, max_tries=30, keep="last")
    assert best.min_distance >= last.min_distance
    # recompute every draw by hand and check "best" is their maximum (min, mean)
    rng = np.random.default_rng(11)
    h8 = np.concatenate([H4, -H4])
    scores = []
    for _ in range(30):
        rows = np.ones((4, 4), dtype=int)
        for r in range(4):
            rows[r, rng.choice(4, size=2, replace=False)] = -1
        d = pairwise_hamming(np.concatenate([h8, rows]))
        scores.append((int(d.min()), float(d.mean())))
        if d.min() > 1 and d.mean() >= 2:
            break
    assert (best.min_distance, best.mean_distance) == max(scores)
    assert (last.min_distance, last.mean_distance) == scores[-1]


def test_majority_vote_with_ties_by_hand():
    proxies = torch.tensor(H4, dtype=torch.float32)
    tie = torch.tensor([-1.0, 1.0, -1.0, -1.0])
    labels = torch.tensor(
        [
            [1, 0, 0, 0],  # single label → its own row
            [1, 1, 0, 0],  # sum [2, 0, 2, 0] → bits 1 and 3 tie
            [1, 1, 1, 0],  # sum [3, 1, 1, -1]
            [0, 0, 0, 0],  # empty → the tie vector
            [1, 1, 1, 1],
        ],  # sum [4, 0, 0, 0]
        dtype=torch.float32,
    )
    expected = torch.tensor(
        [[1, 1, 1, 1], [1, 1, 1, -1], [1, 1, 1, -1], [-1, 1, -1, -1], [1, 1, -1, -1]], dtype=torch.float32
    )
    assert torch.equal(majority_vote(labels, proxies, tie), expected)
    assert count_ties(labels, proxies) == 0 + 2 + 0 + 4 + 3


def test_argmax_assign_lowest_positive_and_empty_row():
    proxies = torch.tensor(H4, dtype=torch.float32)
    labels = torch.tensor([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.float32)
    assert torch.equal(argmax_assign(labels, proxies), proxies[[1, 3, 0]])


def test_tie_vector_is_pm1_and_seeded():
    a = tie_vector(64, torch.Generator().manual_seed(5))
    b = tie_vector(64, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)
    assert set(a.tolist()) <= {-1.0, 1.0} and a.shape == (64,)
