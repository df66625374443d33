"""CMMQ loss pieces and selection schedule (methods/quantization.py, methods/selection.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench.methods.quantization import (
    bernoulli_kl,
    proxy_bce,
    quantization_penalty,
    release_infonce,
    symmetric_kl,
)
from xbench.methods.selection import (
    keep_ratio,
    num_kept,
    release_forget_schedule,
    release_keep_ratio,
    small_loss_indices,
)


# ---------------------------------------------------------------- R(t)
@pytest.mark.parametrize(
    "t,expected", [(0, 1.0), (1, 0.94), (5, 0.7), (9, 0.46), (10, 0.4), (11, 0.4), (100, 0.4)]
)
def test_keep_ratio_paper_schedule(t, expected):
    assert keep_ratio(t, 0.6, 10) == pytest.approx(expected, abs=1e-12)


def test_keep_ratio_no_noise_keeps_all_and_rejects_bad_input():
    assert [keep_ratio(t, 0.0) for t in (0, 5, 50)] == [1.0, 1.0, 1.0]
    assert keep_ratio(3, 0.2, t_k=2) == pytest.approx(0.8)
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match="noise rate"):
            keep_ratio(1, bad)
    with pytest.raises(ValueError):
        keep_ratio(-1, 0.5)
    with pytest.raises(ValueError):
        keep_ratio(1, 0.5, t_k=0)


def test_release_forget_schedule_linspace_then_rho():
    s = release_forget_schedule(25, 0.6, 20)
    assert s.shape == (25,)
    assert s[0] == 0.0 and s[19] == pytest.approx(0.6) and (s[20:] == 0.6).all()
    assert s[1] == pytest.approx(0.6 / 19)
    assert release_keep_ratio(0, 0.6) == 1.0
    assert release_keep_ratio(10, 0.6) == pytest.approx(1 - 0.6 * 10 / 19)
    assert release_keep_ratio(30, 0.6) == pytest.approx(0.4)
    # fewer epochs than the ramp: truncated (the release itself would crash here)
    assert np.allclose(release_forget_schedule(3, 0.6, 20), [0.0, 0.6 / 19, 1.2 / 19])
    assert (release_forget_schedule(4, 0.5, 0) == 0.5).all()


@pytest.mark.parametrize(
    "n,ratio,ceil_k,floor_k",
    [
        (128, 0.4, 52, 51),  # 51.2
        (10, 1 - 0.6, 4, 4),  # 4.000000000000001 must not round up to 5
        (16, 0.4, 7, 6),  # 6.4
        (1, 0.4, 1, 1),  # never empty
        (7, 1.0, 7, 7),
        (0, 0.5, 0, 0),
    ],
)
def test_num_kept_rounding(n, ratio, ceil_k, floor_k):
    assert num_kept(n, ratio, "ceil") == ceil_k
    assert num_kept(n, ratio, "floor") == floor_k


def test_small_loss_indices_exact_and_stable():
    losses = torch.tensor([0.9, 0.1, 0.5, 0.1, 2.0, 0.3])
    assert small_loss_indices(losses, 3).tolist() == [1, 3, 5]
    assert small_loss_indices(losses, 1).tolist() == [1]
    kept = small_loss_indices(losses, 4)
    dropped = sorted(set(range(6)) - set(kept.tolist()))
    assert losses[kept].max() <= losses[dropped].min()
    with pytest.raises(ValueError):
        small_loss_indices(losses.view(2, 3), 2)


# ---------------------------------------------------------------- loss pieces
def test_proxy_bce_by_hand():
    b = torch.tensor([[0.5, -0.5], [0.0, 0.0]])
    o = torch.tensor([[1.0, -1.0], [1.0, 1.0]])
    # p = [0.75, 0.25] against targets [1, 0]; second row p = 0.5 everywhere
    assert torch.allclose(proxy_bce(b, o), torch.tensor([-math.log(0.75), math.log(2.0)]))


def test_proxy_bce_saturated_outputs_stay_finite():
    b = torch.tensor([[1.0, -1.0]])
    o = torch.tensor([[-1.0, -1.0]])
    assert torch.allclose(proxy_bce(b, o), torch.tensor([50.0]))  # log clamp at −100, mean of [100, 0]


def test_quantization_penalty_square_and_printed():
    b = torch.tensor([[0.5, -1.0, 0.0]])
    assert torch.allclose(quantization_penalty(b, "square"), torch.tensor([0.25 + 0.0 + 1.0]))
    assert torch.allclose(quantization_penalty(b, "linear"), torch.tensor([-0.5 + 0.0 - 1.0]))
    with pytest.raises(ValueError):
        quantization_penalty(b, "cube")


def test_symmetric_kl_by_hand():
    bi = torch.tensor([[0.2, 0.0]])
    bj = torch.tensor([[-0.4, 0.0]])
    p, q = 0.6, 0.3
    kl_pq = p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))
    kl_qp = q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))
    assert symmetric_kl(bi, bj, "sum").item() == pytest.approx(kl_pq + kl_qp, rel=1e-5)
    assert symmetric_kl(bi, bj, "mean").item() == pytest.approx((kl_pq + kl_qp) / 2, rel=1e-5)


def test_symmetric_kl_zero_symmetric_positive():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(8, 16, generator=g) * 2 - 1
    b = torch.rand(8, 16, generator=g) * 2 - 1
    assert torch.equal(symmetric_kl(a, a), torch.zeros(8))
    assert torch.allclose(symmetric_kl(a, b), symmetric_kl(b, a))
    assert (symmetric_kl(a, b) > 0).all()
    # saturated, opposite outputs are clamped → large but finite
    sat = symmetric_kl(torch.ones(1, 4), -torch.ones(1, 4), "sum")
    assert torch.isfinite(sat).all() and sat.item() > 50


def test_symmetric_kl_gradient_reaches_both_sides():
    a = torch.tensor([[0.3, -0.2]], requires_grad=True)
    b = torch.tensor([[-0.1, 0.4]], requires_grad=True)
    symmetric_kl(a, b).sum().backward()
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0


def test_bernoulli_kl_nonnegative_and_zero_on_diagonal():
    p = torch.tensor([0.1, 0.5, 0.9])
    assert torch.allclose(bernoulli_kl(p, p), torch.zeros(3))
    assert (bernoulli_kl(p, p.flip(0))[[0, 2]] > 0).all()


def test_release_infonce_by_hand():
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = torch.tensor([[0.5, 0.0], [0.0, 2.0]])
    # column j: softmax over i of u_i·v_j; logits [[0.5, 0], [0, 2]]
    e = math.exp
    expected = [-math.log(e(0.5) / (e(0.5) + e(0.0))), -math.log(e(2.0) / (e(0.0) + e(2.0)))]
    assert torch.allclose(release_infonce(u, v), torch.tensor(expected))
