"""``cca``: canonical correlation analysis (Hotelling 1936) — unsupervised, label-free.

The MCCA row of MRL's Table 1 (Hu et al., CVPR 2021, §4.2: "MCCA" = multiset CCA, Rupnik &
Shawe-Taylor 2010). With two views, as here, multiset CCA reduces to CCA. Fitted by
``sklearn.cross_decomposition.CCA`` (NIPALS; ``max_iter``, ``tol`` as below); K = ``bits``
canonical directions per modality, at most the smaller feature dimension. Shared fitting and
encoding: :mod:`xbench.methods.linear`.
"""

from __future__ import annotations

from .linear import TwoViewProjection


class CCA(TwoViewProjection):
    name = "cca"
    display_name, order, color, marker = "CCA", 12, "#a6761d", "<"
    paper = "Hotelling 1936; MRL Table 1's MCCA (two views)"
    description = "canonical correlation analysis (scikit-learn); unsupervised, label-free"

    def estimator(self):
        from sklearn.cross_decomposition import (
            CCA as _SklearnCCA,  # imported when used (slow import)
        )

        return _SklearnCCA(
            n_components=self.bits, scale=False, max_iter=int(self.hp["max_iter"]), tol=float(self.hp["tol"])
        )
