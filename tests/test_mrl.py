"""MRL as a hashing method: the total loss by hand, the schedule, centres, training on tiny data."""

from __future__ import annotations

import math

import pytest
import torch

from xbench.methods import get
from xbench.methods.mrl import mrl_loss
from xbench.methods.schedules import Schedule, learning_rate

from .test_ssah import tiny_problem

D = torch.float64


def _norm(v: list[float]) -> list[float]:
    r = math.sqrt(sum(x * x for x in v))
    return [x / r for x in v]


def _hand_mrl(zi, zt, centres, yi, yt, beta, tau1, tau2):
    zi = [_norm(v) for v in zi.tolist()]
    zt = [_norm(v) for v in zt.tolist()]
    cols = [[centres[r][c] for r in range(len(centres))] for c in range(len(centres[0]))]
    n = len(zi)

    def rc(zs, ys):
        total = 0.0
        for z, y in zip(zs, ys, strict=False):
            e = [math.exp(sum(a * b for a, b in zip(z, col, strict=False)) / tau1) for col in cols]
            total += math.log(1.0 - e[y] / sum(e))
        return total / n

    allz = zi + zt
    mc = 0.0
    for a in range(2 * n):
        partner = (a + n) % (2 * n)
        s = [
            math.exp(sum(x * y for x, y in zip(allz[a], allz[b], strict=False)) / tau2) for b in range(2 * n)
        ]
        mc += -math.log(s[partner] / (sum(s) - s[a]))
    mc = 2 * mc / (2 * n)  # Σ over the two modalities of the per-pair mean
    return beta * (rc(zi, yi) + rc(zt, yt)) + (1 - beta) * mc


def test_total_loss_matches_hand_computation():
    g = torch.Generator().manual_seed(0)
    zi, zt = torch.randn(3, 4, generator=g, dtype=D), torch.randn(3, 4, generator=g, dtype=D)
    centres = torch.nn.functional.normalize(torch.randn(4, 3, generator=g, dtype=D), dim=0)
    yi, yt = torch.tensor([0, 2, 1]), torch.tensor([0, 1, 1])
    parts = mrl_loss(zi, zt, centres, yi, yt, beta=0.7, tau_rc=0.8, tau_mc=0.5)
    expected = _hand_mrl(zi, zt, centres.tolist(), yi.tolist(), yt.tolist(), 0.7, 0.8, 0.5)
    assert float(parts["loss"]) == pytest.approx(expected, rel=1e-12)


def test_per_sample_losses_average_to_the_batch_loss():
    g = torch.Generator().manual_seed(1)
    zi, zt = torch.randn(5, 4, generator=g, dtype=D), torch.randn(5, 4, generator=g, dtype=D)
    centres = torch.nn.functional.normalize(torch.randn(4, 3, generator=g, dtype=D), dim=0)
    yi = yt = torch.tensor([0, 1, 2, 0, 1])
    mean = mrl_loss(zi, zt, centres, yi, yt, beta=0.4)["loss"]
    per = mrl_loss(zi, zt, centres, yi, yt, beta=0.4, reduction="none")["loss"]
    assert per.shape == (5,) and float(per.mean()) == pytest.approx(float(mean), rel=1e-12)


def cosine_lr(base: float, epoch: int, total: int) -> float:
    return learning_rate(Schedule("cosine"), base, epoch, total)


def test_cosine_schedule():
    assert cosine_lr(1e-4, 0, 10) == pytest.approx(1e-4)
    assert cosine_lr(1e-4, 5, 10) == pytest.approx(0.5e-4)
    assert cosine_lr(1e-4, 10, 10) == pytest.approx(0.0, abs=1e-20)
    assert cosine_lr(1e-4, 12, 10) == pytest.approx(0.0, abs=1e-20)


def make(bits: int = 8, seed: int = 0, **hp):
    shape, data = tiny_problem()
    torch.manual_seed(seed)
    return get("mrl")(shape, bits, seed=seed, **{"batch_size": 16, "lr": 1e-3, **hp}), data


@pytest.mark.parametrize("networks", ["shared", "mrl"])
def test_trains_with_decreasing_loss_and_emits_codes(networks):
    method, data = make(bits=10, networks=networks, mlp_hidden=32)
    data.epochs = 5  # the run's typed epoch budget
    logs = [method.fit_epoch(data, e) for e in range(5)]
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert logs[-1]["lr"] < logs[0]["lr"] == pytest.approx(1e-3)  # cosine over the run's 5 epochs
    for modality in ("image", "text"):
        codes = method.encode_all(modality, getattr(data, modality))
        assert codes.shape == (len(data), 10) and codes.dtype == torch.int8
        assert set(codes.unique().tolist()) <= {-1, 1}
        out = method.continuous(modality, getattr(data, modality))
        assert out.abs().max() < 1.0  # tanh outputs for real-valued (cosine) retrieval
        assert torch.equal(codes, torch.where(out >= 0, 1, -1).to(torch.int8))
    norms = method.prototypes.centres.norm(dim=0)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-6)


def test_sample_losses_shape_and_value():
    method, data = make(batch_size=len(tiny_problem()[1]))
    per = method.sample_losses(data)
    assert per.shape == (len(data),)
    with torch.no_grad():
        method._renormalise_centres()
        whole = method._loss(data, torch.arange(len(data)))["loss"]
    assert float(per.mean()) == pytest.approx(float(whole), rel=1e-5)


def test_per_modality_labels_are_used():
    method, data = make()
    data.text_labels = torch.roll(data.labels, 1, dims=1)
    with torch.no_grad():
        own = method._loss(data, torch.arange(8))["rc_text"]
        data.text_labels = None
        shared = method._loss(data, torch.arange(8))["rc_text"]
    assert float(own) != pytest.approx(float(shared))


def test_deterministic_given_seed():
    codes = []
    for _ in range(2):
        method, data = make(seed=5)
        method.fit_epoch(data, 0)
        codes.append(method.encode_all("image", data.image))
    assert torch.equal(codes[0], codes[1])
