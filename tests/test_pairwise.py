"""Loss pieces of the pairwise baselines (methods/pairwise.py) against hand-written formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench.methods import ModalityShape, ProblemShape, TrainData
from xbench.methods.pairwise import (
    InputNormalisation,
    balance_loss,
    class_balanced_weights,
    continuous_hamming,
    decorrelation_loss,
    exponential_focal_loss,
    exponential_quantization_loss,
    pairwise_nll,
    quantization_loss,
    similarity,
    softplus,
    square_quantization_loss,
    theta,
)
from xbench.methods.schedules import Schedule, learning_rate

LABELS_A = torch.tensor([[1, 0, 0], [0, 1, 1], [0, 0, 0]], dtype=torch.float32)
LABELS_B = torch.tensor([[1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=torch.float32)


def test_similarity_shares_a_label():
    expected = [[1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 0, 0]]
    assert similarity(LABELS_A, LABELS_B).tolist() == expected
    # single-label data is the one-hot case: same class ⇔ similar
    onehot = torch.eye(3)[[0, 2, 0]]
    assert similarity(onehot, onehot).tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def test_pairwise_nll_matches_the_dcmh_formula():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(3, 5, generator=g, dtype=torch.float64) * 3
    v = torch.randn(4, 5, generator=g, dtype=torch.float64) * 3
    s = similarity(LABELS_A, LABELS_B).double()
    th = theta(u, v)
    got = pairwise_nll(th, s)
    for i in range(3):
        for j in range(4):
            t = 0.5 * sum(float(u[i, k]) * float(v[j, k]) for k in range(5))
            assert float(th[i, j]) == pytest.approx(t, rel=1e-12)
            want = -(float(s[i, j]) * t - math.log(1.0 + math.exp(t)))
            assert float(got[i, j]) == pytest.approx(want, rel=1e-10, abs=1e-12)
    # stable for large |Θ| where log(1 + e^Θ) overflows in the naive form
    big = pairwise_nll(torch.tensor([[800.0, -800.0]]), torch.tensor([[0.0, 1.0]]))
    assert big.tolist() == [[800.0, 800.0]]


def test_quantization_and_balance():
    b = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    f = torch.tensor([[0.5, -2.0], [0.0, 1.0], [1.0, -1.0]])
    assert float(quantization_loss(b, f)) == pytest.approx(0.25 + 1.0 + 1.0 + 0.0 + 0.0 + 4.0)
    # ‖F·1‖² in the papers' K×n layout is the squared norm of the per-bit sums
    assert float(balance_loss(f.sum(0))) == pytest.approx((0.5 + 0.0 + 1.0) ** 2 + (-2.0 + 1.0 - 1.0) ** 2)


def _decorrelation_by_hand(h: np.ndarray) -> float:
    n, k = h.shape
    mu = h.mean(0)
    cov = np.zeros((k, k))
    for a in range(k):
        for b in range(k):
            cov[a, b] = sum((h[i, a] - mu[a]) * (h[i, b] - mu[b]) for i in range(n)) / n
    return 0.5 * sum(cov[a, b] ** 2 for a in range(k) for b in range(k) if a != b)


def test_decorrelation_is_the_off_diagonal_covariance_energy():
    h = np.array([[1.0, 2.0, -1.0], [0.5, 1.0, 0.0], [-1.0, -1.5, 2.0], [0.2, 0.1, 0.3]])
    got = float(decorrelation_loss(torch.tensor(h, dtype=torch.float64)))
    assert got == pytest.approx(_decorrelation_by_hand(h), rel=1e-12)
    assert got > 0.1  # correlated bits are penalised (torchcmh's version is identically zero)
    # bits that are exactly uncorrelated (columns of a Hadamard matrix) cost nothing
    hadamard = torch.tensor(
        [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=torch.float64
    )
    assert float(decorrelation_loss(hadamard[:, 1:])) == pytest.approx(0.0, abs=1e-12)
    # scale: covariances are quadratic in h, the loss quartic
    assert float(decorrelation_loss(torch.tensor(2 * h))) == pytest.approx(16 * got, rel=1e-12)


def test_continuous_hamming_equals_hamming_on_binary_codes():
    g = torch.Generator().manual_seed(1)
    a = torch.where(torch.rand(5, 16, generator=g) > 0.5, 1.0, -1.0)
    b = torch.where(torch.rand(6, 16, generator=g) > 0.5, 1.0, -1.0)
    hamming = (a[:, None, :] != b[None, :, :]).sum(-1).float()
    assert torch.allclose(continuous_hamming(a, b), hamming, atol=1e-5)
    u, v = torch.tensor([[3.0, 4.0]]), torch.tensor([[4.0, 3.0]])
    assert float(continuous_hamming(u, v)) == pytest.approx(1.0 * (1 - 24 / 25))


def test_class_balanced_weights():
    s = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # |S| = 6, |S1| = 2, |S0| = 4
    w = class_balanced_weights(s)
    assert w.tolist() == [[3.0, 1.5, 1.5], [1.5, 1.5, 3.0]]
    # weighted mean = mean over similar pairs + mean over dissimilar pairs
    loss = torch.tensor([[2.0, 1.0, 3.0], [5.0, 7.0, 4.0]])
    assert float((w * loss).sum() / s.numel()) == pytest.approx((2.0 + 4.0) / 2 + (1 + 3 + 5 + 7) / 4)
    assert class_balanced_weights(torch.zeros(2, 2)).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_exponential_focal_loss_by_hand():
    d = torch.tensor([[0.5, 3.0], [10.0, 1.0]], dtype=torch.float64)
    s = torch.tensor([[1.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    beta, gamma = 0.5, 2.0
    got = exponential_focal_loss(d, s, beta, gamma)
    for i in range(2):
        for j in range(2):
            p = math.exp(-beta * float(d[i, j]))
            if s[i, j] > 0:
                want = (1 - p) ** gamma * beta * float(d[i, j])  # −(1−p)^γ log p
            else:
                want = -(p**gamma) * math.log(1 - p)
            assert float(got[i, j]) == pytest.approx(want, rel=1e-10)
    # coincident dissimilar codes stay finite
    assert torch.isfinite(exponential_focal_loss(torch.zeros(1, 1), torch.zeros(1, 1), beta, gamma)).all()
    # γ = 0 is the plain exponential NLL: β d for similar pairs, −log(1 − e^{−βd}) for dissimilar ones
    plain = exponential_focal_loss(d, s, beta, 0.0)
    assert float(plain[0, 1]) == pytest.approx(1.5)
    assert float(plain[1, 1]) == pytest.approx(-math.log(1 - math.exp(-0.5)))


def test_quantization_losses_of_cmhh():
    codes = torch.tensor([[1.0, -1.0, 1.0, 1.0]])
    assert float(exponential_quantization_loss(codes, 0.5)[0]) == pytest.approx(0.0, abs=1e-6)
    h = torch.tensor([[0.5, -1.0, 0.0, 1.0]], dtype=torch.float64)
    cos = (0.5 + 1.0 + 0.0 + 1.0) / (math.sqrt(0.25 + 1 + 0 + 1) * 2.0)
    assert float(exponential_quantization_loss(h, 0.5)[0]) == pytest.approx(0.5 * 2.0 * (1 - cos), rel=1e-10)
    assert float(square_quantization_loss(h)[0]) == pytest.approx(0.25 + 0 + 1 + 0)


def scheduled_lr(lr0: float, lr_end: float, epoch: int, total: int, kind: str) -> float:
    return learning_rate(Schedule(kind, end_factor=lr_end / lr0), lr0, epoch, total)


def test_scheduled_lr_matches_logspace_and_linspace():
    log = np.logspace(-1.5, -3, 500)
    for epoch in (0, 1, 250, 499):
        assert scheduled_lr(10**-1.5, 1e-3, epoch, 500, "log") == pytest.approx(log[epoch], rel=1e-9)
    lin = np.linspace(10**-1.5, 1e-6, 500)
    for epoch in (0, 123, 499):
        assert scheduled_lr(10**-1.5, 1e-6, epoch, 500, "linear") == pytest.approx(lin[epoch], rel=1e-9)
    assert scheduled_lr(0.1, 0.01, 900, 500, "log") == pytest.approx(0.01)  # past the schedule: the end
    assert scheduled_lr(0.1, 0.01, 7, 500, "constant") == 0.1
    with pytest.raises(ValueError, match="schedule"):
        scheduled_lr(0.1, 0.01, 0, 10, "cosh")


def test_input_normalisation_modes():
    shape = ProblemShape(ModalityShape("features", 3), ModalityShape("bow", 2), num_classes=2)
    x_img = torch.tensor([[1.0, 0.0, 2.0], [3.0, 0.0, 6.0]])
    x_txt = torch.tensor([[0.0, 2.0], [4.0, 2.0]])
    data = TrainData(x_img, x_txt, torch.eye(2))
    norm = InputNormalisation(shape, "auto")
    norm.fit(data)
    # features: standardised (constant dims only centred: std floored), BoW: centred only
    assert norm("image", x_img).tolist() == [[-1.0, 0.0, -1.0], [1.0, 0.0, 1.0]]
    assert norm("text", x_txt).tolist() == [[-2.0, 0.0], [2.0, 0.0]]
    off = InputNormalisation(shape, "none")
    off.fit(data)
    assert torch.equal(off("image", x_img), x_img)
    raw = InputNormalisation(
        ProblemShape(ModalityShape("images", (3, 8, 8)), ModalityShape("bow", 2), 2), "standardize"
    )
    assert raw.mode == {"image": "none", "text": "standardize"}
    with pytest.raises(ValueError, match="normalisation"):
        InputNormalisation(shape, "whiten")


def test_class_balanced_weights_of_a_block_use_the_whole_pair_set():
    s = similarity(LABELS_A, LABELS_B)
    full = class_balanced_weights(s)
    block = class_balanced_weights(s[:2], counts=(float(s.sum()), float(s.numel())))
    assert torch.equal(block, full[:2])
    assert not torch.equal(class_balanced_weights(s[:2]), full[:2])  # the block's own counts differ


def test_softplus_is_log_one_plus_exp_with_the_sigmoid_gradient():
    """softplus(x) = log(1 + e^x) by a float64 hand computation (no overflow for large |x|); its
    gradient is σ(x) (and passes gradcheck); float32 values agree with PyTorch's softplus."""
    x = torch.tensor([-800.0, -30.0, -3.0, -1e-3, 0.0, 2e-3, 1.5, 25.0, 700.0], dtype=torch.float64)
    want = [math.log1p(math.exp(v)) if v < 30 else v + math.log1p(math.exp(-v)) for v in x.tolist()]
    np.testing.assert_allclose(softplus(x).numpy(), want, rtol=1e-12, atol=1e-15)  # absolute accuracy
    xg = x.clone().requires_grad_(True)
    softplus(xg).backward(torch.arange(1.0, 10.0, dtype=torch.float64))
    np.testing.assert_allclose(xg.grad.numpy(), torch.arange(1.0, 10.0) * torch.sigmoid(x), rtol=1e-12)
    assert torch.autograd.gradcheck(softplus, (torch.randn(7, dtype=torch.float64, requires_grad=True) * 4,))
    y = torch.randn(64, 50) * 8
    np.testing.assert_allclose(softplus(y).numpy(), torch.nn.functional.softplus(y).numpy(), atol=2e-6)


def test_similarity_rows_are_cached_per_label_tensor_and_equal_fresh_ones(monkeypatch):
    """dcmh/prdh read batch rows of S from an n×n boolean copy made once per pair of label tensors;
    the rows equal similarity(); new label tensors, labels changed in place, and sets above the
    cache limit all give fresh, correct rows."""
    from xbench import methods
    from xbench.methods import shared_codes

    g = torch.Generator().manual_seed(0)
    la = (torch.rand(40, 5, generator=g) < 0.3).float()
    lb = (torch.rand(40, 5, generator=g) < 0.3).float()
    shape = ProblemShape(ModalityShape("features", 6), ModalityShape("features", 7), 5, True, 40)
    m = methods.get("dcmh")(shape, 8)
    idx = torch.tensor([3, 0, 39, 3])
    assert torch.equal(m.similarity_rows(la, lb, idx), similarity(la[idx], lb))
    assert torch.equal(m.similarity_rows(la, lb), similarity(la, lb))
    assert len(m._similarity_cache) == 1
    assert torch.equal(m.similarity_rows(lb, lb, idx), similarity(lb[idx], lb))
    la[3] = 1.0 - la[3]  # in place: the cached copy is stale and must not be used
    assert torch.equal(m.similarity_rows(la, lb, idx), similarity(la[idx], lb))
    monkeypatch.setattr(shared_codes, "SIMILARITY_CACHE_ITEMS", 10)
    other = methods.get("dcmh")(shape, 8)
    assert torch.equal(other.similarity_rows(la, lb, idx), similarity(la[idx], lb))
    assert "_similarity_cache" not in other.__dict__
