"""``prdh``: the loss composition checked by value against an independent NumPy computation.

A tiny problem (n = 5 items, K = 3 bits, 3 classes) with hand-set buffers F, G, B and
different image and text labels (so that using the wrong modality's labels shows), and
distinct weights γ, η, λ, w_intra (so that a weight on the wrong term shows). Every term of
the batch loss (docs/methods/pairwise.md, ``methods/prdh.py``)

    [L(u, G) + 2·w_intra·L(u, F) + γ‖B_b − u‖² + η‖F·1‖²] / (n·bs) + λ·D(u)

and of the logged objective J is recomputed here from its definition with NumPy only.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods import ModalityShape, ProblemShape, TrainData

HP = {"gamma": 0.7, "eta": 1.3, "lam": 0.4, "w_intra": 0.6}
IMAGE_LABELS = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]]
TEXT_LABELS = [[1, 0, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 0, 1]]


def _tiny() -> tuple[methods.Hasher, TrainData, np.ndarray, np.ndarray]:
    shape = ProblemShape(ModalityShape("features", 4), ModalityShape("bow", 6), 3)
    rng = np.random.default_rng(7)
    train = TrainData(
        torch.tensor(rng.normal(size=(5, 4)), dtype=torch.float64),
        torch.tensor(rng.poisson(1.0, size=(5, 6)), dtype=torch.float64),
        torch.tensor(IMAGE_LABELS, dtype=torch.float64),
        text_labels=torch.tensor(TEXT_LABELS, dtype=torch.float64),
    )
    torch.manual_seed(0)
    m = methods.get("prdh")(shape, 3, seed=0, **HP).double()
    f = rng.normal(size=(5, 3))
    g = rng.normal(size=(5, 3))
    m.F, m.G = torch.tensor(f), torch.tensor(g)
    m.B = torch.tensor(np.sign(f + g))
    return m, train, f, g


def _nll(u: np.ndarray, v: np.ndarray, la: np.ndarray, lb: np.ndarray) -> float:
    """Σ_ij log(1 + e^Θ_ij) − S_ij Θ_ij with Θ = ½ u vᵀ and S_ij = [la_i · lb_j > 0]."""
    th = 0.5 * u @ v.T
    s = (la @ lb.T > 0).astype(float)
    return float(np.sum(np.log1p(np.exp(th)) - s * th))


def _decorrelation(h: np.ndarray) -> float:
    """Sum over unordered pairs of distinct bits of their squared covariance over the rows."""
    c = np.cov(h, rowvar=False, bias=True)
    k = c.shape[0]
    return float(sum(c[a, b] ** 2 for a in range(k) for b in range(a + 1, k)))


@pytest.mark.parametrize("modality", ["image", "text"])
def test_batch_loss_composition_by_value(modality):
    m, train, f, g = _tiny()
    idx = [3, 0]
    u = np.array([[0.4, -1.1, 0.3], [-0.2, 0.9, 1.5]])
    own, other = (f, g) if modality == "image" else (g, f)
    own = own.copy()
    own[idx] = u  # the skeleton writes the batch's outputs into its own buffer before the loss
    lab = {"image": np.array(IMAGE_LABELS, float), "text": np.array(TEXT_LABELS, float)}
    la, lb = (lab["image"], lab["text"]) if modality == "image" else (lab["text"], lab["image"])
    b = np.sign(f + g)
    n, bs = 5, len(idx)
    want = {
        "inter": _nll(u, other, la[idx], lb) / (n * bs),
        "intra": 2 * HP["w_intra"] * _nll(u, own, la[idx], la) / (n * bs),
        "decorrelation": HP["lam"] * _decorrelation(u),
        "quantization": HP["gamma"] * float(np.sum((b[idx] - u) ** 2)) / (n * bs),
        "balance": HP["eta"] * float(np.sum(own.sum(0) ** 2)) / (n * bs),
    }
    assert all(abs(v) > 1e-3 for v in want.values())  # every term matters on this problem

    ut = torch.tensor(u, requires_grad=True)
    m.buffer(modality)[torch.tensor(idx)] = ut.detach()
    loss, terms = m.batch_terms(modality, ut, torch.tensor(idx), train)
    got = {k: float(v.detach()) for k, v in terms.items()}
    assert got == pytest.approx(want, rel=1e-9)
    assert float(loss.detach()) == pytest.approx(sum(want.values()), rel=1e-9)


def test_objective_composition_by_value():
    """J = [L(F,G) + w_intra(L(F,F) + L(G,G)) + γ(‖B−F‖² + ‖B−G‖²) + η(‖F·1‖² + ‖G·1‖²)]/n² + λ(D(F)+D(G))."""
    m, train, f, g = _tiny()
    li, lt = np.array(IMAGE_LABELS, float), np.array(TEXT_LABELS, float)
    b = np.sign(f + g)
    n2 = 25.0
    inter = _nll(f, g, li, lt)
    intra = _nll(f, f, li, li) + _nll(g, g, lt, lt)
    quant = float(np.sum((b - f) ** 2) + np.sum((b - g) ** 2))
    bal = float(np.sum(f.sum(0) ** 2) + np.sum(g.sum(0) ** 2))
    decor = _decorrelation(f) + _decorrelation(g)
    want = (inter + HP["w_intra"] * intra + HP["gamma"] * quant + HP["eta"] * bal) / n2 + HP["lam"] * decor
    got = m.objective_terms(train)
    assert got["objective"] == pytest.approx(want, rel=1e-9)
    assert got["objective_inter"] == pytest.approx(inter / n2, rel=1e-9)
    assert got["objective_intra"] == pytest.approx(intra / n2, rel=1e-9)
    assert got["objective_decorrelation"] == pytest.approx(decor, rel=1e-9)
