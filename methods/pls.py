"""``pls``: partial least squares in canonical mode (Wold 1975) — unsupervised, label-free.

The PLS row of MRL's Table 1 (Hu et al., CVPR 2021; Sharma & Jacobs, CVPR 2011 for cross-modal
PLS): K = ``bits`` directions per modality maximising the covariance of the projections, at most
the smaller feature dimension; symmetric PLS mode A with canonical deflation (Wegelin 2000, §4.1;
scikit-learn's ``PLSCanonical``).

For each component k, the weights (u_k, v_k) are the top singular pair of the deflated
cross-covariance C_k = X_kᵀY_k; the scores t = X_k u_k, s = Y_k v_k; the loadings
p = X_kᵀt / tᵀt, q = Y_kᵀs / sᵀs; then X_{k+1} = X_k − t pᵀ and Y_{k+1} = Y_k − s qᵀ. The
rotations are W (PᵀW)⁺ and V (QᵀV)⁺ (scikit-learn's ``x_rotations_`` / ``y_rotations_``).

``solver``: ``svd`` (default) finds each singular pair exactly — the top eigenvector of C_k C_kᵀ
(or C_kᵀC_k, whichever is smaller) — and updates C_k by the rank-one deflations instead of
recomputing X_kᵀY_k, so a component costs O(n(d_x + d_y) + d_x d_y min(d_x, d_y)); signs follow
scikit-learn (the largest |u| entry positive). It equals ``PLSCanonical(algorithm="svd")``
(tested). ``nipals`` fits ``sklearn.cross_decomposition.PLSCanonical`` by its power iteration
(``max_iter``, ``tol``), xbench's solver before 2026-12 (25.7 s a 64-bit cell on ``synthetic``,
most components stopping at ``max_iter``). Shared fitting and encoding: :mod:`xbench.methods.linear`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Hyper
from .linear import NIPALS_HYPERPARAMETERS, SOLVER, TwoViewProjection


def _top_singular_pair(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit (u, v) with C v = σ₁ u, from the smaller Gram matrix; the largest |u| entry is positive."""
    from scipy.linalg import eigh  # imported when used (slow import)

    if c.shape[0] <= c.shape[1]:
        g = c @ c.T
        u = eigh(g, subset_by_index=[len(g) - 1, len(g) - 1])[1][:, 0]
        v = c.T @ u
        v /= np.linalg.norm(v)
    else:
        g = c.T @ c
        v = eigh(g, subset_by_index=[len(g) - 1, len(g) - 1])[1][:, 0]
        u = c @ v
        u /= np.linalg.norm(u)
    sign = np.sign(u[np.argmax(np.abs(u))])
    return u * sign, v * sign


def canonical_pls(xs: np.ndarray, ys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The x and y rotations of ``k`` PLS-canonical components of two centred views (exact singular pairs)."""
    xk, yk = xs.copy(), ys.copy()
    c = xk.T @ yk
    w, v = np.zeros((xs.shape[1], k)), np.zeros((ys.shape[1], k))
    p, q = np.zeros_like(w), np.zeros_like(v)
    for j in range(k):
        w[:, j], v[:, j] = _top_singular_pair(c)
        t, s = xk @ w[:, j], yk @ v[:, j]
        p[:, j] = xk.T @ t / (t @ t)
        q[:, j] = yk.T @ s / (s @ s)
        # C_{k+1} = X_{k+1}ᵀ Y_{k+1} with X_{k+1} = X_k − t pᵀ, Y_{k+1} = Y_k − s qᵀ
        x_next_s = xk.T @ s - p[:, j] * (t @ s)
        c -= np.outer(p[:, j], yk.T @ t) + np.outer(x_next_s, q[:, j])
        xk -= np.outer(t, p[:, j])
        yk -= np.outer(s, q[:, j])
    return w @ np.linalg.pinv(p.T @ w), v @ np.linalg.pinv(q.T @ v)


class PLS(TwoViewProjection):
    name = "pls"
    display_name, order, color, marker = "PLS", 14, "#666666", ">"
    paper = "Wold 1975; Sharma & Jacobs, CVPR 2011; MRL Table 1's PLS"
    description = (
        "partial least squares, canonical mode (exact, or scikit-learn's NIPALS); unsupervised, label-free"
    )
    hyperparameters: ClassVar[dict[str, Hyper]] = {**NIPALS_HYPERPARAMETERS, "solver": SOLVER}

    def estimator(self):
        from sklearn.cross_decomposition import (
            PLSCanonical,  # imported when used (slow import)
        )

        return PLSCanonical(
            n_components=self.bits, scale=False, max_iter=int(self.hp["max_iter"]), tol=float(self.hp["tol"])
        )

    def rotations(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.hp["solver"] == "nipals":
            return super().rotations(xs, ys)
        return canonical_pls(xs, ys, self.bits)
