"""mrl and uot-rcl scale their inputs in the one place (``Hasher.scaled``), as every trained method.

Their default ``input_norm=standardize-features`` standardises precomputed features with the training
statistics and leaves bag-of-words untouched, so features of another scale give the same codes
(docs/health.md, "Input scaling"); ``input_norm=none`` is the official MRL code's behaviour.
"""

from __future__ import annotations

import pytest
import torch

from xbench import methods
from xbench.methods import ModalityShape, ProblemShape, TrainData

TINY = {
    "mrl": {"batch_size": 20},
    "uot-rcl": {"networks": "shared", "batch_size": 20, "warmup_epochs": 1, "ramp_epochs": 2},
}


def problem(text_kind: str) -> tuple[ProblemShape, TrainData]:
    g = torch.Generator().manual_seed(3)
    n, c = 60, 3
    labels = torch.nn.functional.one_hot(torch.arange(n) % c, c).float()
    image = labels @ torch.randn(c, 8, generator=g) * 4 + torch.rand(n, 8, generator=g) + 2.0
    if text_kind == "bow":
        text = torch.poisson(labels @ torch.rand(c, 12, generator=g) * 3, generator=g)
    else:
        text = labels @ torch.randn(c, 12, generator=g) + torch.randn(n, 12, generator=g)
    shape = ProblemShape(
        ModalityShape("features", 8), ModalityShape(text_kind, 12), c, num_train=n, dataset="tiny"
    )
    return shape, TrainData(image, text, labels, noise_rate=0.0)


def standardised(x: torch.Tensor) -> torch.Tensor:
    return (x - x.mean(0)) / x.std(0, unbiased=False).clamp_min(1e-6)


def build(name: str, shape: ProblemShape, **hp) -> methods.Hasher:
    torch.manual_seed(0)
    return methods.get(name)(shape, 16, seed=0, **{**TINY[name], **hp})


@pytest.mark.parametrize("name", ["mrl", "uot-rcl"])
def test_features_are_standardised_and_bag_of_words_left_alone(name):
    shape, data = problem("bow")
    model = build(name, shape)
    assert model.hp["input_norm"] == "standardize-features"
    model.fit_epoch(data, 0)
    model.eval()
    squash = torch.tanh if name == "uot-rcl" else (lambda t: t)
    with torch.no_grad():
        got = model.continuous("image", data.image)
        assert torch.allclose(got, squash(model.net("image")(standardised(data.image))), atol=1e-5)
        assert not torch.allclose(got, squash(model.net("image")(data.image)), atol=1e-2)
        assert torch.equal(model.continuous("text", data.text), squash(model.net("text")(data.text)))


@pytest.mark.parametrize("name", ["mrl", "uot-rcl"])
def test_features_of_another_scale_give_the_same_codes(name):
    shape, data = problem("features")
    model = build(name, shape)
    big = TrainData(data.image * 100, data.text, data.labels, noise_rate=0.0)
    scaled = build(name, shape)
    for epoch in range(2):
        model.fit_epoch(data, epoch)
        scaled.fit_epoch(big, epoch)
    assert torch.equal(scaled.encode_all("image", big.image), model.encode_all("image", data.image))
    assert torch.equal(scaled.encode_all("text", big.text), model.encode_all("text", data.text))


@pytest.mark.parametrize("name", ["mrl", "uot-rcl"])
def test_input_norm_none_feeds_the_features_as_given(name):
    shape, data = problem("features")
    model = build(name, shape, input_norm="none")
    model.fit_epoch(data, 0)
    model.eval()
    squash = torch.tanh if name == "uot-rcl" else (lambda t: t)
    with torch.no_grad():
        assert torch.equal(model.continuous("image", data.image), squash(model.net("image")(data.image)))


@pytest.mark.parametrize("name", ["mrl", "uot-rcl", "dcmh"])
def test_a_trained_state_dict_loads_into_a_fresh_method(name):
    """The fitted input statistics travel with ``state_dict`` (a fresh method has none yet)."""
    shape, data = problem("features")
    hp = TINY.get(name, {"batch_size": 20})
    torch.manual_seed(0)
    model = methods.get(name)(shape, 16, seed=0, **hp)
    model.fit_epoch(data, 0)
    fresh = methods.get(name)(shape, 16, seed=1, **hp)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(fresh.inputs.mean_image, model.inputs.mean_image)
    assert torch.equal(fresh.encode_all("image", data.image), model.encode_all("image", data.image))
