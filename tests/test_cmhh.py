"""``cmhh``'s text network switch (``text_net``, ``text_init``; docs/health.md, "CMHH")."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench.methods import TrainData
from xbench.methods.networks import ReleaseTextNet, TextNet

from .test_pairwise_methods import make


def test_default_text_net_is_the_release_linear_map_under_tanh():
    """linear2: tanh(fc3(fc1(x))) of the standardised input; fc2 unused, no ReLU."""
    m, train = make("cmhh")
    assert m.hp["text_net"] == "linear2" and m.hp["text_init"] == "pytorch"
    release = m.text_net[0]
    assert isinstance(release, ReleaseTextNet)
    m.inputs.fit(train)
    x = train.text[:5]
    z = m.scaled("text", x)
    want = torch.tanh(release.fc3(release.fc1(z)))
    with torch.no_grad():
        assert torch.allclose(m.continuous("text", x), want, atol=1e-6)
        assert not torch.allclose(want, torch.tanh(release.fc3(torch.relu(release.fc1(z)))), atol=1e-3)
    # the text optimiser holds the text network's parameters only
    text_params = {id(p) for g in m.optimizers["text"].param_groups for p in g["params"]}
    assert text_params == {id(p) for p in m.text_net.parameters()}


def test_mlp3_is_the_papers_text_mlp():
    m, _ = make("cmhh", text_net="mlp3")
    assert isinstance(m.text_net, TextNet)
    with pytest.raises(ValueError, match="text_net"):
        make("cmhh", text_net="linear")


def test_text_init_release_vs_pytorch():
    """release: fc1 ~ N(0, 0.01), fc3 ~ N(0, 0.5), biases 0; pytorch: uniform(±1/√fan_in) with biases."""
    rel = make("cmhh", text_init="release")[0].text_net[0].requires_grad_(False)
    pt = make("cmhh", text_init="pytorch")[0].text_net[0].requires_grad_(False)
    assert float(rel.fc1.weight.std()) == pytest.approx(0.01, rel=0.05)
    assert float(rel.fc3.weight.std()) == pytest.approx(0.5, rel=0.05)
    assert all(float(layer.bias.abs().max()) == 0.0 for layer in (rel.fc1, rel.fc2, rel.fc3))
    for layer in (pt.fc1, pt.fc3):
        bound = 1.0 / math.sqrt(layer.in_features)
        assert float(layer.weight.abs().max()) <= bound
        assert float(layer.weight.std()) == pytest.approx(bound / math.sqrt(3.0), rel=0.1)
        assert float(layer.bias.abs().max()) > 0.0


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def focal_terms(a, b, s, beta, gamma, counts):
    """w_ij ℓ_ij in numpy: d = (K/2)(1 − cos), p = e^{−βd}, class-balance weights from counts = (|S₁|, |S|)."""
    d = 0.5 * a.shape[1] * (1 - unit(a) @ unit(b).T)
    p = np.exp(-beta * d)
    n_pos, n_all = counts
    w = np.where(s > 0, n_all / n_pos, n_all / (n_all - n_pos))
    return w * (s * (1 - p) ** gamma * beta * d - (1 - s) * p**gamma * np.log(1 - p))


def mixed_label_problem(**hp):
    """A tiny cmhh problem whose text labels differ from its image labels, and its outputs."""
    m, train = make("cmhh", **hp)
    g = torch.Generator().manual_seed(5)
    text_labels = train.labels[torch.randperm(len(train), generator=g)]
    data = TrainData(train.image, train.text, train.labels, text_labels=text_labels)
    m.inputs.fit(data)
    with torch.no_grad(), m.evaluating():
        hi = m.continuous("image", data.image).double().numpy()
        ht = m.continuous("text", data.text).double().numpy()
    return m, data, hi, ht, data.labels.double().numpy(), text_labels.double().numpy()


def test_per_sample_losses_by_hand():
    """Per item i: ½ (mean_j w ℓ(image i, text j) + mean_j w ℓ(text i, image j)), the class-balance
    weights counted over all n × n cross-modal pairs; image and text labels differ (numpy)."""
    beta, gamma = 0.3, 1.5
    m, data, hi, ht, li, lt = mixed_label_problem(beta=beta, gamma=gamma)
    s_it = (li @ lt.T > 0).astype(float)
    counts = (float(s_it.sum()), float(s_it.size))
    assert 0 < counts[0] < counts[1]
    want = 0.5 * (
        focal_terms(hi, ht, s_it, beta, gamma, counts).mean(1)
        + focal_terms(ht, hi, s_it.T, beta, gamma, counts).mean(1)
    )
    np.testing.assert_allclose(m.sample_losses(data), want, rtol=1e-4)


def test_batch_pairs_are_image_against_text_labels():
    """The batch's focal term: S from the image labels (rows) against the text labels (columns)."""
    beta, gamma = 0.3, 1.5
    m, data, hi, ht, li, lt = mixed_label_problem(beta=beta, gamma=gamma)
    idx = torch.arange(20)
    s = (li[:20] @ lt[:20].T > 0).astype(float)
    assert not np.array_equal(s, (li[:20] @ li[:20].T > 0).astype(float))
    want = focal_terms(hi[:20], ht[:20], s, beta, gamma, (float(s.sum()), float(s.size))).mean()
    m.eval()
    with torch.no_grad():
        got = float(m.batch_loss(data, idx, None)["focal"])
    assert got == pytest.approx(want, rel=1e-4)
