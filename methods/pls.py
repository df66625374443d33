"""``pls``: partial least squares in canonical mode (Wold 1975) — unsupervised, label-free.

The PLS row of MRL's Table 1 (Hu et al., CVPR 2021; Sharma & Jacobs, CVPR 2011 for cross-modal
PLS). Fitted by ``sklearn.cross_decomposition.PLSCanonical`` (symmetric PLS mode A, NIPALS):
K = ``bits`` directions per modality maximising the covariance of the projections, at most the
smaller feature dimension. Shared fitting and encoding: :mod:`xbench.methods.linear`.
"""

from __future__ import annotations

from .linear import TwoViewProjection


class PLS(TwoViewProjection):
    name = "pls"
    display_name, order, color, marker = "PLS", 14, "#666666", ">"
    paper = "Wold 1975; Sharma & Jacobs, CVPR 2011; MRL Table 1's PLS"
    description = "partial least squares, canonical mode (scikit-learn); unsupervised, label-free"

    def estimator(self):
        from sklearn.cross_decomposition import (
            PLSCanonical,  # imported when used (slow import)
        )

        return PLSCanonical(
            n_components=self.bits, scale=False, max_iter=int(self.hp["max_iter"]), tol=float(self.hp["tol"])
        )
