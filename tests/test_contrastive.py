"""MRL's RC and MC losses against hand-written computations of the formulas."""

from __future__ import annotations

import math

import pytest
import torch

from xbench.methods.contrastive import (
    multimodal_contrastive_loss,
    robust_clustering_loss,
)

D = torch.float64


def T(values) -> torch.Tensor:
    return torch.tensor(values, dtype=D)


def _softmax_row(row: list[float]) -> list[float]:
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_rc_single_label_matches_log_one_minus_p():
    logits = T([[0.3, -0.2, 0.9], [1.0, 0.5, -1.0]])
    labels = torch.tensor([2, 0])
    expected = []
    for row, y in zip(logits.tolist(), labels.tolist(), strict=False):
        p = _softmax_row(row)
        expected.append(math.log(1.0 - p[y]))
    per = robust_clustering_loss(logits, labels, reduction="none")
    assert per.tolist() == pytest.approx(expected, rel=1e-12)
    assert float(robust_clustering_loss(logits, labels)) == pytest.approx(sum(expected) / 2, rel=1e-12)


def test_rc_equals_official_mean_clustering_error():
    """Official MeanClusteringError: log(Σ (1−q)·p / Σ p), p = softmax(logits / τ)."""
    g = torch.Generator().manual_seed(0)
    logits, labels, tau = torch.randn(5, 4, generator=g, dtype=D), torch.tensor([0, 3, 1, 1, 2]), 0.7
    p = torch.softmax(logits / tau, dim=1)
    q = torch.eye(4, dtype=D)[labels]
    official = (((1 - q) * p).sum(1) / p.sum(1)).log().mean()
    assert float(robust_clustering_loss(logits / tau, labels)) == pytest.approx(float(official), rel=1e-12)


def test_rc_multi_hot_uses_positive_mass_and_empty_rows_give_zero():
    logits = T([[0.1, 0.7, -0.4, 0.2], [0.5, 0.5, 0.5, 0.5]])
    labels = T([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    p = _softmax_row(logits[0].tolist())
    expected = [math.log(1.0 - p[0] - p[2]), 0.0]
    assert robust_clustering_loss(logits, labels, reduction="none").tolist() == pytest.approx(
        expected, abs=1e-12
    )


def test_rc_floor_at_log_eps():
    logits = T([[50.0, 0.0]])
    assert float(robust_clustering_loss(logits, torch.tensor([0]), eps=1e-7)) == pytest.approx(math.log(1e-7))


def _hand_mc(zi: torch.Tensor, zt: torch.Tensor, tau: float, include_self: bool) -> list[float]:
    """−log P(a) for each of the 2N anchors, with plain Python loops."""
    z = [[c / math.sqrt(sum(x * x for x in v)) for c in v] for v in (zi.tolist() + zt.tolist())]
    n = zi.shape[0]
    out = []
    for a in range(2 * n):
        partner = a + n if a < n else a - n
        s = [sum(x * y for x, y in zip(z[a], z[b], strict=False)) / tau for b in range(2 * n)]
        num = math.exp(s[partner]) + (math.exp(s[a]) if include_self else 0.0)
        den = sum(math.exp(s[b]) for b in range(2 * n) if include_self or b != a)
        out.append(-math.log(num / den))
    return out


@pytest.mark.parametrize("include_self", [False, True])
def test_mc_matches_hand_computation(include_self):
    zi = T([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [-1.0, 0.2, 0.3]])
    zt = T([[0.8, 1.5, 0.2], [0.0, -1.0, 2.0], [-2.0, 0.0, 0.1]])
    tau = 0.5
    anchors = _hand_mc(zi, zt, tau, include_self)
    mean = sum(anchors) / 6
    got = multimodal_contrastive_loss(zi, zt, tau, include_self=include_self)
    assert float(got) == pytest.approx(mean, rel=1e-12)
    got_sum = multimodal_contrastive_loss(zi, zt, tau, reduction="sum_modalities", include_self=include_self)
    assert float(got_sum) == pytest.approx(2 * mean, rel=1e-12)
    per_pair = multimodal_contrastive_loss(zi, zt, tau, reduction="none", include_self=include_self)
    assert per_pair.tolist() == pytest.approx(
        [(anchors[i] + anchors[i + 3]) / 2 for i in range(3)], rel=1e-12
    )


def test_mc_sum_modalities_equals_official_loss1_plus_loss2():
    """The official cross_modal_contrastive_ctriterion (main_noisy.py), written out for 2 views."""
    g = torch.Generator().manual_seed(1)
    zi = torch.nn.functional.normalize(torch.randn(4, 6, generator=g, dtype=D), dim=1)
    zt = torch.nn.functional.normalize(torch.randn(4, 6, generator=g, dtype=D), dim=1)
    tau, b = 1.0, 4
    fea = torch.cat([zi, zt])
    sim = (fea @ fea.t() / tau).exp()
    sim = sim - sim.diag().diag()
    sum1 = sim[:, :b] + sim[:, b:]
    diag1 = torch.cat([sum1[:b].diag(), sum1[b:].diag()])
    loss1 = -(diag1 / sim.sum(1)).log().mean()
    sum2 = sim[:b] + sim[b:]
    diag2 = torch.cat([sum2[:, :b].diag(), sum2[:, b:].diag()])
    loss2 = -(diag2 / sim.sum(1)).log().mean()
    got = multimodal_contrastive_loss(zi, zt, tau, reduction="sum_modalities")
    assert float(got) == pytest.approx(float(loss1 + loss2), rel=1e-12)


def test_bad_reductions_raise():
    with pytest.raises(ValueError, match="reduction"):
        robust_clustering_loss(torch.zeros(1, 2), torch.tensor([0]), reduction="sum")
    with pytest.raises(ValueError, match="reduction"):
        multimodal_contrastive_loss(torch.ones(1, 2), torch.ones(1, 2), reduction="sum")


def test_weighted_class_loss_weights_samples():
    from xbench.methods.contrastive import weighted_class_loss

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]], dtype=torch.float64)
    labels = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    weight = torch.tensor([1.0, 0.25], dtype=torch.float64)
    logp = logits.log_softmax(1)
    ce = [-float(logp[0, 0]), -0.5 * float(logp[1, 1] + logp[1, 2])]
    expected = (1.0 * ce[0] + 0.25 * ce[1]) / 1.25
    assert float(weighted_class_loss(logits, labels, weight, "ce")) == pytest.approx(expected, rel=1e-12)
    rc = robust_clustering_loss(logits, labels, reduction="none")
    expected_rc = float((weight * rc).sum() / weight.sum())
    assert float(weighted_class_loss(logits, labels, weight, "rc")) == pytest.approx(expected_rc, rel=1e-12)
    with pytest.raises(ValueError, match="class loss"):
        weighted_class_loss(logits, labels, weight, "hinge")
