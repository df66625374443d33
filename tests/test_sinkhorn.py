"""The scaled form of POT's log-domain entropic solvers (methods/sinkhorn.py) against POT itself.

Each problem is solved by POT's own solver and by the scaled form; the plans must agree to 1e-10
relative. Problems stopped early by the tolerance check that the stopping test runs at POT's
iterations (stopping ten iterations apart leaves the plans ~tol apart); problems run to the
iteration limit check the iterates themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xbench.methods import sinkhorn as S
from xbench.methods import transport as T

RTOL = 1e-10


def close(got: torch.Tensor, want: torch.Tensor) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype
    assert bool(torch.isfinite(got).all())
    scale = float(want.abs().max())
    assert float((got - want).abs().max()) <= RTOL * scale, float((got - want).abs().max()) / scale


def problem(n: int, k: int, seed: int, floor: float = 0.3):
    """Capacities a (non-uniform), a class prior and a −log(probability) cost with minimum ``floor``."""
    g = np.random.default_rng(seed)
    a = g.random(n) + 0.1
    prior = g.dirichlet(np.ones(k))
    cost = -np.log(g.dirichlet(np.full(k, 0.5), size=n) + 1e-3)
    cost += floor - cost.min()
    return torch.from_numpy(a / a.sum()), torch.from_numpy(prior), torch.from_numpy(cost)


@pytest.mark.parametrize(
    "n, k, mass, reg, max_iter, tol",
    [
        (300, 6, 0.3, 0.07, 400, 1e-7),  # CSOT's first mass, uot-rcl's ε: runs to the limit
        (300, 6, 0.9, 0.07, 400, 1e-7),
        (120, 4, 0.5, 0.5, 5000, 1e-7),  # a larger ε converges: stops at POT's iteration
        (120, 4, 0.5, 0.5, 5000, 1e-3),  # stopped early by the change of the log-plan
        (200, 24, 0.7, 0.1, 300, 1e-7),
    ],
)
def test_partial_equals_pot(n, k, mass, reg, max_iter, tol):
    a, prior, cost = problem(n, k, seed=n + k)
    b = prior * mass
    mass = min(float(b.sum()), float(a.sum()))
    want = S.pot_partial(a, b, cost, reg, mass, max_iter, tol)
    got = S.partial_sinkhorn_log(a, b, cost, reg, mass, max_iter, tol)
    close(got, want)
    assert float(got.sum()) == pytest.approx(mass, rel=1e-12)  # the last projection is onto the mass


def test_partial_rows_bind_below_their_capacity():
    # more capacity in b than moves: the column projections bind too (both corrections matter)
    a, prior, cost = problem(150, 5, seed=3)
    b = prior * 0.8
    want = S.pot_partial(a, b, cost, 0.2, 0.4, 600, 1e-12)
    got = S.partial_sinkhorn_log(a, b, cost, 0.2, 0.4, 600, 1e-12)
    close(got, want)
    assert float(got.sum(1).max() - a.max()) <= 1e-6 and float((got.sum(0) - b).max()) <= 1e-6


@pytest.mark.parametrize(
    "n, m, reg, max_iter, tol",
    [
        (128, 128, 0.07, 200, 1e-7),
        (64, 40, 0.3, 1000, 1e-9),
        (64, 40, 0.3, 1000, 1e-4),
        (30, 30, 0.05, 7, 1e-9),
    ],
)
def test_balanced_equals_pot(n, m, reg, max_iter, tol):
    g = torch.Generator().manual_seed(n + m)
    zi = torch.nn.functional.normalize(torch.randn(n, 16, generator=g, dtype=torch.float64), dim=1)
    zt = torch.nn.functional.normalize(torch.randn(m, 16, generator=g, dtype=torch.float64), dim=1)
    cost = 1.0 - zi @ zt.t()  # minimum > 0: the kernel's scale is not 1
    a = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
    a = a / a.sum()
    b = torch.full((m,), 1.0 / m, dtype=torch.float64)
    want = S.pot_balanced(a, b, cost, reg, max_iter, tol)
    got = S.sinkhorn_log(a, b, cost, reg, max_iter, tol)
    close(got, want)


def test_underflowing_kernel_is_handed_to_pot(monkeypatch):
    # one row's costs all ≥ 60: −M/ε ≤ −1,200 across the row, so its kernel row underflows to zero
    # and the scaled form cannot hold it; POT's log domain can, and the result is POT's
    a, prior, cost = problem(60, 4, seed=7)
    cost[0] += 60.0
    want = S.pot_partial(a, prior * 0.5, cost, 0.05, 0.5, 200, 1e-9)
    calls = []
    original = S.pot_partial
    monkeypatch.setattr(S, "pot_partial", lambda *args: calls.append(args) or original(*args))
    got = S.partial_sinkhorn_log(a, prior * 0.5, cost, 0.05, 0.5, 200, 1e-9)
    assert calls, "the scaled form should have handed this problem to POT"
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    u = torch.full((60,), 1 / 60, dtype=torch.float64)
    v = torch.full((4,), 1 / 4, dtype=torch.float64)
    torch.testing.assert_close(
        S.sinkhorn_log(u, v, cost, 0.05, 200, 1e-9),
        S.pot_balanced(u, v, cost, 0.05, 200, 1e-9),
        rtol=0,
        atol=0,
    )


def test_well_scaled_problems_never_reach_pot(monkeypatch):
    monkeypatch.setattr(S, "pot_partial", lambda *args: pytest.fail("POT was called"))
    monkeypatch.setattr(S, "pot_balanced", lambda *args: pytest.fail("POT was called"))
    a, prior, cost = problem(200, 10, seed=1)
    S.partial_sinkhorn_log(a, prior * 0.3, cost, 0.07, 0.3, 100, 1e-7)
    S.sinkhorn_log(a, prior, cost, 0.07, 100, 1e-7)


def test_transport_steps_equal_across_backends():
    """partial_transport, semantic_alignment and relation_plan: ``scaled`` equals ``pot``."""
    a, prior, cost = problem(250, 6, seed=11)
    a_np, b_np, c_np = a.numpy(), (prior * 0.4).numpy(), cost.numpy() + 0.5
    for mass in (0.4, float(min(a_np.sum(), b_np.sum()))):
        scaled = T.partial_transport(a_np, b_np, c_np, mass, backend="scaled")
        pot = T.partial_transport(a_np, b_np, c_np, mass, backend="pot")
        close(torch.from_numpy(scaled), torch.from_numpy(pot))
    balanced = T.partial_transport(a_np, prior.numpy(), c_np, 1.0, backend="scaled")
    close(
        torch.from_numpy(balanced),
        torch.from_numpy(T.partial_transport(a_np, prior.numpy(), c_np, 1.0, backend="pot")),
    )
    g = torch.Generator().manual_seed(0)
    zi, zt = torch.randn(32, 8, generator=g), torch.randn(32, 8, generator=g)
    y = torch.eye(4)[torch.arange(32) % 4]
    for mass in (1.0, 0.3):
        close(
            T.relation_plan(zi, zt, y, y, mass=mass, backend="scaled"),
            T.relation_plan(zi, zt, y, y, mass=mass, backend="pot"),
        )
    with pytest.raises(ValueError, match="backend must be one of scaled, pot"):
        T.partial_transport(a_np, b_np, c_np, 0.4, backend="numpy")
    with pytest.raises(ValueError, match="backend must be one of scaled, pot"):
        T.relation_plan(zi, zt, y, y, backend="numpy")
