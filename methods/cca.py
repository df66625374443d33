"""``cca``: canonical correlation analysis (Hotelling 1936) — unsupervised, label-free.

The MCCA row of MRL's Table 1 (Hu et al., CVPR 2021, §4.2: "MCCA" = multiset CCA, Rupnik &
Shawe-Taylor 2010). With two views, as here, multiset CCA reduces to CCA. K = ``bits``
canonical directions per modality, at most the smaller feature dimension.

``solver``: ``svd`` (default) solves CCA in closed form — each standardised view is whitened by
its thin SVD (singular values below ``max(n, d)·ε·s_max`` dropped, i.e. the pseudo-inverse square
root of its covariance), and the SVD of the product of the two orthonormal bases gives the
canonical correlations and directions (Golub & Van Loan, *Matrix Computations*, §6.4.3).
``nipals`` fits ``sklearn.cross_decomposition.CCA`` instead (NIPALS with deflation; ``max_iter``,
``tol``), xbench's solver before 2026-12: where NIPALS converges the two give the same canonical
variates up to sign and scale, hence the same Hamming distances; on ``synthetic`` it stops at
``max_iter`` for every component and took minutes a cell. Shared fitting and encoding:
:mod:`xbench.methods.linear`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Hyper
from .linear import NIPALS_HYPERPARAMETERS, SOLVER, TwoViewProjection


def _orthonormal_basis(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U, W): U = v @ W has orthonormal columns spanning v's column space (numerical rank)."""
    u, s, vt = np.linalg.svd(v, full_matrices=False)
    keep = s > (s[0] if len(s) else 0.0) * max(v.shape) * np.finfo(v.dtype).eps
    return u[:, keep], vt[keep].T / s[keep]


def canonical_directions(xs: np.ndarray, ys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top ``k`` canonical directions of two centred views and their correlations (closed form)."""
    ux, wx = _orthonormal_basis(xs)
    uy, wy = _orthonormal_basis(ys)
    a, rho, bt = np.linalg.svd(ux.T @ uy, full_matrices=False)
    k_found = min(k, len(rho))
    rx, ry = np.zeros((xs.shape[1], k)), np.zeros((ys.shape[1], k))
    rx[:, :k_found], ry[:, :k_found] = wx @ a[:, :k_found], wy @ bt[:k_found].T
    return rx, ry, rho[:k_found]


class CCA(TwoViewProjection):
    name = "cca"
    display_name, order, color, marker = "CCA", 12, "#a6761d", "<"
    paper = "Hotelling 1936; MRL Table 1's MCCA (two views)"
    description = (
        "canonical correlation analysis (closed form, or scikit-learn's NIPALS); unsupervised, label-free"
    )
    hyperparameters: ClassVar[dict[str, Hyper]] = {
        **NIPALS_HYPERPARAMETERS,
        "solver": SOLVER,
    }

    def estimator(self):
        from sklearn.cross_decomposition import (
            CCA as _SklearnCCA,  # imported when used (slow import)
        )

        return _SklearnCCA(
            n_components=self.bits, scale=False, max_iter=int(self.hp["max_iter"]), tol=float(self.hp["tol"])
        )

    def rotations(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.hp["solver"] == "nipals":
            return super().rotations(xs, ys)
        rx, ry, _ = canonical_directions(xs, ys, self.bits)
        return rx, ry
