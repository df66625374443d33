"""The OT steps of uot-rcl (methods/transport.py) against hand-written references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from xbench.methods import transport as T


# ----------------------------------------------------------------------------------- helpers
def synthetic_problem(n: int = 600, c: int = 4, rate: float = 0.4, seed: int = 0):
    """Clean labels, symmetric-noisy labels and informative two-modality predictions."""
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, c, n)
    flip = rng.random(n) < rate
    noisy = clean.copy()
    noisy[flip] = (clean[flip] + rng.integers(1, c, flip.sum())) % c

    def predictions(signal: float) -> np.ndarray:
        logits = rng.normal(size=(n, c))
        logits[np.arange(n), clean] += signal
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)

    return clean, noisy, flip, predictions(0.5), predictions(2.0)


# ----------------------------------------------------------------------------------- costs
def test_consistent_cost_matches_formula():
    pv = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    pt = np.array([[0.5, 0.25, 0.25], [0.3, 0.3, 0.4]])
    got = T.consistent_cost(pv, pt, delta=0.0)
    assert got[0, 0] == pytest.approx(-math.log(0.6))
    assert got[1, 2] == pytest.approx(-math.log(0.6))
    assert got[0, 1] == pytest.approx(-math.log(0.225))
    vote = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    got = T.consistent_cost(pv, pt, vote, vote_weight=0.25, delta=1e-6)
    assert got[0, 1] == pytest.approx(-math.log(0.75 * 0.225 + 0.25 * 1.0 + 1e-6))
    assert got[1, 1] == pytest.approx(-math.log(0.75 * 0.2 + 1e-6))


def test_consistent_cost_label_prior():
    pv = np.array([[0.7, 0.2, 0.1]])
    pt = np.array([[0.5, 0.25, 0.25]])
    labels = np.array([[0, 2, 0]])  # normalised to [0, 1, 0]
    vote = np.array([[0.5, 0.0, 0.5]])
    got = T.consistent_cost(pv, pt, vote, vote_weight=0.2, labels=labels, label_weight=0.3, delta=0.0)
    want = -np.log(0.5 * np.array([0.6, 0.225, 0.175]) + 0.2 * vote[0] + 0.3 * np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(got[0], want)


def test_consistent_cost_rejects_bad_input():
    with pytest.raises(ValueError, match="must be equal"):
        T.consistent_cost(np.ones((2, 3)) / 3, np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="vote_weight"):
        T.consistent_cost(np.ones((2, 3)) / 3, np.ones((2, 3)) / 3, np.ones((2, 3)) / 3, vote_weight=1.5)
    with pytest.raises(ValueError, match="at most 1"):
        T.consistent_cost(
            np.ones((2, 3)) / 3,
            np.ones((2, 3)) / 3,
            np.ones((2, 3)) / 3,
            vote_weight=0.6,
            labels=np.eye(3)[:2],
            label_weight=0.6,
        )


def test_neighbour_vote_weights_by_cross_modal_agreement():
    # 4 samples in 2-d; sample 0's nearest neighbour (mean similarity) is sample 1 in both modalities
    zi = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    zt = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.0, -1.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    vote = T.neighbour_vote(zi, zt, y, k=2)
    # sample 0: mean similarities to 1, 2, 3 are 0.7, 0, -0.5 → neighbours 1 and 2;
    # weights relu(sv)·relu(st): 0.8·0.6 = 0.48 and 0·0 = 0 → all weight on sample 1 (class 1)
    np.testing.assert_allclose(vote[0], [0.0, 1.0], atol=1e-12)
    # sample 3: similarities to 0, 1, 2: image −1, −0.8, 0; text 0, −0.8, −1 → means −0.5, −0.8, −0.5;
    # neighbours 0 and 2 both get weight 0 → unweighted mean of their labels
    np.testing.assert_allclose(vote[3], [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(vote.sum(1), 1.0)


def test_class_prior():
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_allclose(T.class_prior(y), [3 / 5, 2 / 5, 0.0])
    np.testing.assert_allclose(T.class_prior(y, "uniform"), [1 / 3] * 3)
    with pytest.raises(ValueError):
        T.class_prior(y, "other")


def test_top_labels_counts_and_ties():
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.1], [0.2, 0.5, 0.3]])
    got = T.top_labels(scores, np.array([1, 1, 2]))
    np.testing.assert_array_equal(got, [[0, 1, 0], [1, 0, 0], [0, 1, 1]])
    assert got.dtype == np.uint8


def test_correction_schedule_is_a_share_of_the_budget_unless_given():
    # auto (-1): 20 % warm-up and 40 % ramp, rounded half up — the old fixed 10 / 20 at 50 epochs
    assert T.correction_schedule(-1, -1, 50) == (10, 20)
    assert T.correction_schedule(-1, -1, 10) == (2, 4)
    assert T.correction_schedule(-1, -1, 20) == (4, 8)
    assert T.correction_schedule(-1, -1, 3) == (1, 1)  # 0.6 → 1, 1.2 → 1
    assert T.correction_schedule(-1, -1, 5) == (1, 2)
    assert T.correction_schedule(-1, -1, 4) == (1, 2)  # 0.8 → 1, 1.6 → 2
    assert T.correction_schedule(-1, -1, 8) == (2, 3)  # 1.6 → 2, 3.2 → 3
    # explicit values win, 0 included (no warm-up)
    assert T.correction_schedule(0, 7, 50) == (0, 7)
    assert T.correction_schedule(3, -1, 100) == (3, 40)


def test_mass_schedule():
    assert T.mass_schedule(4, warmup=5, ramp=10, start=0.3, end=1.0) == 0.0
    assert T.mass_schedule(5, 5, 10, 0.3, 1.0) == pytest.approx(0.3)
    assert T.mass_schedule(10, 5, 10, 0.3, 1.0) == pytest.approx(0.65)
    assert T.mass_schedule(15, 5, 10, 0.3, 1.0) == pytest.approx(1.0)
    assert T.mass_schedule(40, 5, 10, 0.3, 1.0) == pytest.approx(1.0)
    assert T.mass_schedule(5, 5, 0, 0.3, 0.8) == pytest.approx(0.8)


# ------------------------------------------------------------------------- partial transport
def test_exact_partial_transport_known_solution():
    # 3 samples (capacity 1/3), 2 classes receiving 1/3 each: the two cheap rows move, row 2 stays
    a = np.full(3, 1 / 3)
    b = np.array([1 / 3, 1 / 3])
    cost = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    plan = T.partial_transport(a, b, cost, mass=2 / 3, solver="exact")
    np.testing.assert_allclose(plan, [[1 / 3, 0], [0, 1 / 3], [0, 0]], atol=1e-12)
    ent = T.partial_transport(a, b, cost, mass=2 / 3, reg=0.02, solver="entropic")
    np.testing.assert_allclose(ent, plan, atol=1e-3)
    assert ent.sum() == pytest.approx(2 / 3, abs=1e-12)


def test_partial_transport_tolerates_rounding_in_the_class_masses():
    # 10 × (0.9 · 0.1) sums to 0.8999999999999999 < 0.9: POT would call m = 0.9 infeasible
    rng = np.random.default_rng(5)
    cost = rng.random((50, 10))
    step = T.semantic_alignment(cost, np.ones(50), np.full(10, 0.1), mass=0.9)
    assert step.moved == pytest.approx(0.9, abs=1e-12)
    plan = T.partial_transport(np.full(50, 0.02), np.full(10, 0.09), cost, mass=0.9, solver="exact")
    assert plan.sum() == pytest.approx(0.9, abs=1e-12)


def test_partial_transport_validates():
    a, b, cost = np.full(2, 0.5), np.full(2, 0.5), np.zeros((2, 2))
    with pytest.raises(ValueError, match="mass"):
        T.partial_transport(a, b, cost, mass=1.5)
    with pytest.raises(ValueError, match="solver"):
        T.partial_transport(a, b, cost, mass=0.5, solver="sinkhorn")
    with pytest.raises(ValueError, match="cost"):
        T.partial_transport(a, b, np.zeros((3, 2)), mass=0.5)


@pytest.mark.parametrize("solver", ["entropic", "exact"])
def test_semantic_alignment_moves_scheduled_mass_and_corrects(solver):
    clean, noisy, flip, pv, pt = synthetic_problem()
    n, c = pv.shape
    y_noisy = np.eye(c, dtype=np.uint8)[noisy]
    prior = T.class_prior(y_noisy)
    step = T.semantic_alignment(
        T.consistent_cost(pv, pt), np.ones(n), prior, mass=0.3, reg=0.07, solver=solver
    )
    # exactly the scheduled mass moves; each class receives m·π_k; no row exceeds 1/N
    assert step.moved == pytest.approx(0.3, abs=1e-12)
    np.testing.assert_allclose(step.plan.sum(0), 0.3 * prior, atol=1e-8)
    assert step.row_mass.max() <= 1 / n + 1e-9
    # a confident subset of about m·N samples is transported
    assert 0.8 * 0.3 * n <= step.transported.sum() <= 0.3 * n + 1
    pseudo = step.pseudo_labels.argmax(1)
    moved_corrupted = step.transported & flip
    assert moved_corrupted.sum() >= 20
    fixed = (pseudo[moved_corrupted] == clean[moved_corrupted]).mean()
    assert fixed > 0.75  # a clear majority of the transported corrupted samples get their clean label
    sel = step.transported
    assert (pseudo[sel] == clean[sel]).mean() > (noisy[sel] == clean[sel]).mean() + 0.2
    np.testing.assert_array_equal(step.pseudo_labels.sum(1), 1)


def test_semantic_alignment_full_mass_is_balanced():
    _, noisy, _, pv, pt = synthetic_problem(n=200, seed=1)
    prior = T.class_prior(np.eye(4)[noisy])
    step = T.semantic_alignment(T.consistent_cost(pv, pt), np.ones(200), prior, mass=1.0)
    np.testing.assert_allclose(step.row_mass, 1 / 200, rtol=1e-8)
    np.testing.assert_allclose(step.plan.sum(0), prior, rtol=1e-6)  # Sinkhorn stops at 1e-7 marginal error
    assert step.transported.all()


def test_semantic_alignment_multilabel_capacity_is_label_count():
    rng = np.random.default_rng(3)
    n, c = 60, 5
    y = np.zeros((n, c), dtype=np.uint8)
    for i in range(n):
        y[i, rng.choice(c, size=1 + i % 3, replace=False)] = 1
    y[0] = 0  # a sample without labels gets no capacity
    counts = y.sum(1)
    p = rng.dirichlet(np.ones(c), size=n)
    step = T.semantic_alignment(T.consistent_cost(p, p), counts, T.class_prior(y), mass=0.5, solver="exact")
    np.testing.assert_allclose(step.sample_mass, counts / counts.sum())
    assert step.row_mass[0] == 0 and not step.transported[0]
    np.testing.assert_array_equal(step.pseudo_labels.sum(1), counts)
    assert step.moved == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(step.plan.sum(0), 0.5 * T.class_prior(y), atol=1e-12)
    assert np.all(step.row_mass <= step.sample_mass + 1e-12)


# ------------------------------------------------------------------------- relation alignment
def test_relation_cost_by_hand():
    zi = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    zt = torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    yi = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    yt = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    got = T.relation_cost(zi, zt, yi, yt, label_weight=0.5)
    s = 1 / math.sqrt(2)
    want = torch.tensor([[1.0 + 0.0, 0.0 + 0.5 * (1 - s)], [0.0 + 0.5, 1.0 + 0.5 * (1 - s)]])
    torch.testing.assert_close(got, want)


def test_relation_plan_marginals():
    g = torch.Generator().manual_seed(0)
    b = 12
    zi = torch.randn(b, 8, generator=g)
    zt = zi + 0.3 * torch.randn(b, 8, generator=g)
    y = torch.eye(3)[torch.arange(b) % 3]
    plan = T.relation_plan(zi, zt, y, y, reg=0.2, max_iter=5000, tol=1e-12)
    assert plan.shape == (b, b) and plan.dtype == torch.float64
    torch.testing.assert_close(plan.sum(1), torch.full((b,), 1 / b, dtype=torch.float64), rtol=1e-6, atol=0)
    torch.testing.assert_close(plan.sum(0), torch.full((b,), 1 / b, dtype=torch.float64), rtol=1e-6, atol=0)
    part = T.relation_plan(zi, zt, y, y, reg=0.2, mass=0.5, max_iter=5000, tol=1e-12)
    assert float(part.sum()) == pytest.approx(0.5, abs=1e-12)
    assert float(part.sum(1).max()) <= 1 / b + 1e-9 and float(part.sum(0).max()) <= 1 / b + 1e-9
    # the default (short) iteration budget keeps the marginals within 1e-3 relative
    fast = T.relation_plan(zi, zt, y, y)
    assert float((fast.sum(0) * b - 1).abs().max()) < 1e-3
    assert float((fast.sum(1) * b - 1).abs().max()) < 1e-3


def test_relation_plan_prefers_same_label_pairs():
    zi = torch.eye(4)
    zt = torch.eye(4)
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    plan = T.relation_plan(zi, zt, y, y, label_weight=2.0, reg=0.05, max_iter=2000)
    same = (y @ y.t()).bool()
    assert float(plan[same].sum()) > 0.99
    assert bool((plan.diagonal() > plan.masked_fill(torch.eye(4, dtype=torch.bool), 0).max(1).values).all())


def test_relation_loss_with_diagonal_plan_is_symmetric_infonce():
    g = torch.Generator().manual_seed(1)
    zi, zt = torch.randn(5, 6, generator=g), torch.randn(5, 6, generator=g)
    plan = torch.eye(5, dtype=torch.float64) / 5
    got = T.relation_loss(zi, zt, plan, tau=0.5)
    sim = F.normalize(zi, dim=1) @ F.normalize(zt, dim=1).t() / 0.5
    want = F.cross_entropy(sim, torch.arange(5)) + F.cross_entropy(sim.t(), torch.arange(5))
    torch.testing.assert_close(got, want)


def test_relation_targets_normalise_rows_and_columns():
    plan = torch.tensor([[0.2, 0.1], [0.0, 0.3]], dtype=torch.float64)
    rows, cols = T.relation_targets(plan)
    torch.testing.assert_close(rows, torch.tensor([[2 / 3, 1 / 3], [0.0, 1.0]]))
    torch.testing.assert_close(cols, torch.tensor([[1.0, 0.0], [0.25, 0.75]]))
