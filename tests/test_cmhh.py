"""``cmhh``'s text network switch (``text_net``, ``text_init``; docs/health.md, "CMHH")."""

from __future__ import annotations

import math

import pytest
import torch

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
