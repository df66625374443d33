"""POT's log-domain entropic OT iterations, computed as matrix–vector products (``ot_backend=scaled``).

POT's log-domain solvers — ``ot.sinkhorn(..., method="sinkhorn_log")`` and
``ot.partial.entropic_partial_wasserstein(..., method="sinkhorn_log")``
(``entropic_partial_wasserstein_logscale``, POT 0.9.7 ``ot/partial/partial_solvers.py``) — update
the whole log-plan every iteration and take three log-sum-exps over it. Every update they make
adds a per-row vector, a per-column vector or a scalar to ``−M/ε``, so the log-plan is always::

    log γ = −M/ε + r 1ᵀ + 1 cᵀ + s

and each log-sum-exp reduces to a product of ``K = exp(−M/ε − max)`` (computed once) with a
vector: ``lse_j(−M_ij/ε + c_j) = max + c* + log (K e^{c − c*})_i`` (c* = max c). The functions
below run exactly POT's iterations — the same update order, the Dykstra corrections of the partial
solver (a row vector and a column vector; its third, a scalar, cancels), the same stopping tests at the
same iterations, the same iteration limit — on (r, c, s), and form the plan once at the end. The
iterates equal POT's up to rounding (``tests/test_sinkhorn.py`` compares them with POT itself to
1e-10), at a fraction of the cost: two matrix–vector products an iteration instead of three
passes of exp over the plan.

Where the scaled form cannot represent the problem — a kernel entry or a scaling that underflows
to zero, so a row or column sum would vanish where POT's log-sum-exp stays finite — the solver
hands the whole problem to POT's own log-domain solver, so the result is always POT's up to
rounding.
"""

from __future__ import annotations

import math

import torch

# a row or column sum below this (or a non-finite potential) means the scaled form lost what the
# log domain keeps: hand the problem to POT
_TINY = 1e-280


def _log_kernel(cost: torch.Tensor, reg: float) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(−M/ε, K = exp(−M/ε − top), top): the log-kernel, its scaled exponential and its maximum."""
    log_k = -cost / reg
    top = float(log_k.max())
    return log_k, torch.exp(log_k - top), top


def _lse_rows(kernel: torch.Tensor, top: float, col: torch.Tensor) -> torch.Tensor:
    """lse_j(log K_ij + c_j) for every row i (log K = log(kernel) + top)."""
    c_max = col.max()
    return top + c_max + torch.log(kernel @ torch.exp(col - c_max))


def _lse_cols(kernel: torch.Tensor, top: float, row: torch.Tensor) -> torch.Tensor:
    """lse_i(log K_ij + r_i) for every column j."""
    r_max = row.max()
    return top + r_max + torch.log(kernel.t() @ torch.exp(row - r_max))


def _underflows(kernel: torch.Tensor) -> bool:
    """Whether a row or column of the scaled kernel sums to (almost) nothing: POT's log domain is needed."""
    return bool((kernel.sum(1) < _TINY).any()) or bool((kernel.sum(0) < _TINY).any())


def _representable(*parts: torch.Tensor) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in parts)


def sinkhorn_log(
    a: torch.Tensor, b: torch.Tensor, cost: torch.Tensor, reg: float, max_iter: int = 1000, tol: float = 1e-9
) -> torch.Tensor:
    """The balanced entropic plan of ``ot.sinkhorn(a, b, cost, reg, method="sinkhorn_log")``.

    POT's iterations: ``v = log b − lse_i(−M/ε + u)``, ``u = log a − lse_j(−M/ε + v)``; every 10th
    iteration (the first included) the column-marginal violation ‖γᵀ1 − b‖₂ is checked against
    ``tol``; at most ``max_iter`` iterations; no warning when the limit is reached.
    """
    log_k, kernel, top = _log_kernel(cost, reg)
    if _underflows(kernel):
        return pot_balanced(a, b, cost, reg, max_iter, tol)
    log_a, log_b = torch.log(a), torch.log(b)
    u = torch.zeros_like(a)
    v = torch.zeros_like(b)
    for it in range(max_iter):
        v = log_b - _lse_cols(kernel, top, u)
        u = log_a - _lse_rows(kernel, top, v)
        if it % 10 == 0:
            if not _representable(u, v):
                return pot_balanced(a, b, cost, reg, max_iter, tol)
            columns = torch.exp(v + _lse_cols(kernel, top, u))
            if float(torch.linalg.norm(columns - b)) < tol:
                break
    if not _representable(u, v):
        return pot_balanced(a, b, cost, reg, max_iter, tol)
    return torch.exp(log_k + u[:, None] + v[None, :])


def partial_sinkhorn_log(
    a: torch.Tensor,
    b: torch.Tensor,
    cost: torch.Tensor,
    reg: float,
    mass: float,
    max_iter: int = 1000,
    tol: float = 1e-100,
) -> torch.Tensor:
    """The entropic partial plan of ``ot.partial.entropic_partial_wasserstein_logscale``.

    γ = argmin ⟨γ, M⟩ + ε Σγ log γ s.t. γ1 ≤ a, γᵀ1 ≤ b, 1ᵀγ1 = ``mass``, by POT's Dykstra
    iterations (Benamou et al. 2015, prop. 5): project onto the row capacities and the column
    capacities, each with its Dykstra correction, then rescale to the total mass; every 10th
    iteration (the first included) the Frobenius norm of the change of the log-plan is checked
    against ``tol``; at most ``max_iter`` iterations.
    """
    log_k, kernel, top = _log_kernel(cost, reg)
    if _underflows(kernel):
        return pot_partial(a, b, cost, reg, mass, max_iter, tol)
    log_a, log_b = torch.log(a), torch.log(b)
    log_m = math.log(mass)
    # log γ = −M/ε + r 1ᵀ + 1 cᵀ + s; POT's first step rescales −M/ε to total mass m
    row = torch.zeros_like(a)
    col = torch.zeros_like(b)
    shift = log_m - (top + torch.log(kernel.sum()))
    # the Dykstra corrections of the two capacity projections: a row vector and a column vector.
    # POT's third, of the mass projection, is a scalar that cancels: that projection sets
    # s = log m − lse(−M/ε + r 1ᵀ + 1 cᵀ) whatever s was before it.
    q_row = torch.zeros_like(a)
    q_col = torch.zeros_like(b)
    c_max = col.max()
    k_col = kernel @ torch.exp(col - c_max)  # K e^{c − c*}, reused until c changes
    err, it = 1.0, 0
    while err > tol and it < max_iter:
        row_prev, col_prev, shift_prev = row, col, shift
        # rows: γ1 ≤ a
        row = row + q_row
        d_row = torch.clamp(log_a - (row + shift + top + c_max + torch.log(k_col)), max=0.0)
        row = row + d_row
        q_row = -d_row
        # columns: γᵀ1 ≤ b
        col = col + q_col
        r_max = row.max()
        e_row = torch.exp(row - r_max)
        d_col = torch.clamp(log_b - (col + shift + top + r_max + torch.log(kernel.t() @ e_row)), max=0.0)
        col = col + d_col
        q_col = -d_col
        # total mass: 1ᵀγ1 = m
        c_max = col.max()
        k_col = kernel @ torch.exp(col - c_max)
        shift = log_m - (top + r_max + c_max + torch.log(e_row @ k_col))
        if it % 10 == 0:
            # POT stops at the first non-finite log-plan; the scaled form hands such a problem to
            # POT, which redoes it (a non-finite potential stays non-finite, so every 10th
            # iteration and the end suffice to see it)
            if not _representable(row, col, shift):
                return pot_partial(a, b, cost, reg, mass, max_iter, tol)
            change = (row_prev - row + (shift_prev - shift))[:, None] + (col_prev - col)[None, :]
            err = float(torch.linalg.norm(change))
        it += 1
    if not _representable(row, col, shift):
        return pot_partial(a, b, cost, reg, mass, max_iter, tol)
    return torch.exp(log_k + row[:, None] + col[None, :] + shift)


def pot_balanced(
    a: torch.Tensor, b: torch.Tensor, cost: torch.Tensor, reg: float, max_iter: int = 1000, tol: float = 1e-9
) -> torch.Tensor:
    """POT's own ``ot.sinkhorn(..., method="sinkhorn_log")`` (no warning at the iteration limit)."""
    import ot  # POT only when it solves

    return ot.sinkhorn(a, b, cost, reg, method="sinkhorn_log", numItermax=max_iter, stopThr=tol, warn=False)


def pot_partial(
    a: torch.Tensor,
    b: torch.Tensor,
    cost: torch.Tensor,
    reg: float,
    mass: float,
    max_iter: int = 1000,
    tol: float = 1e-100,
) -> torch.Tensor:
    """POT's own ``ot.partial.entropic_partial_wasserstein(..., method="sinkhorn_log")``."""
    import ot

    m = torch.tensor(float(mass), dtype=cost.dtype, device=cost.device)
    return ot.partial.entropic_partial_wasserstein(
        a, b, cost, reg, m=m, method="sinkhorn_log", numItermax=max_iter, stopThr=tol
    )
