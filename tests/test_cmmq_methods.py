"""The ``cmmq``, ``cmmq-code`` and ``bce`` hashers end to end on tiny data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods import ModalityShape, ProblemShape, TrainData
from xbench.methods.cmmq_code import (
    release_assigns_by_argmax,
    release_test_view,
    release_train_view,
)
from xbench.methods.networks import ReleaseTextNet
from xbench.methods.proxies import argmax_assign, majority_vote

NAMES = ("cmmq", "cmmq-code", "bce")


def tiny(n: int = 100, classes: int = 4, multi: bool = True, seed: int = 0, noise_rate: float = 0.0):
    """Separable two-modality data: class prototypes + noise; multi-hot labels."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, classes), dtype=np.float32)
    labels[np.arange(n), rng.integers(0, classes, n)] = 1
    if multi:
        labels[np.arange(n), rng.integers(0, classes, n)] = 1
    image = labels @ rng.normal(0, 1, (classes, 16)) + 0.1 * rng.normal(0, 1, (n, 16))
    text = labels @ rng.normal(0, 1, (classes, 12)) + 0.1 * rng.normal(0, 1, (n, 12))
    shape = ProblemShape(ModalityShape("features", 16), ModalityShape("bow", 12), classes, multi, n, "tiny")
    data = TrainData(
        torch.tensor(image, dtype=torch.float32),
        torch.tensor(text, dtype=torch.float32),
        torch.tensor(labels),
        noise_rate=noise_rate,
    )
    return shape, data


def build(name: str, shape: ProblemShape, bits: int = 32, seed: int = 0, **hp):
    torch.manual_seed(seed)
    return methods.get(name)(shape, bits, seed=seed, **hp)


def test_registered_with_declarations():
    for name in NAMES:
        cls = methods.get(name)
        assert cls.name == name and cls.has_sample_losses and cls.paper and cls.description
        assert "power" in cls.supported_bits
        for key, h in cls.hyperparameters.items():
            assert h.source, f"{name}.{key} has no source"


@pytest.mark.parametrize("name", NAMES)
def test_bits_must_be_powers_of_two(name):
    cls = methods.get(name)
    for bits in (32, 64, 128):
        assert cls.check_bits(bits) is None
    message = cls.check_bits(48)
    assert message and "power of two" in message and "48" in message
    shape, _ = tiny()
    with pytest.raises(ValueError, match="power of two"):
        cls(shape, 24)


def test_paper_defaults_and_features_mode_lr():
    cls = methods.get("cmmq")
    raw, feat = cls.defaults(features_mode=False), cls.defaults(features_mode=True)
    assert raw["lr"] == 1e-5 and feat["lr"] == 1e-3
    for hp in (raw, feat):
        values = (hp["weight_decay"], hp["batch_size"], hp["alpha"], hp["beta"], hp["mq_weight"], hp["t_k"])
        assert values == (1e-5, 128, 1e-4, 1.0, 0.7, 10.0)
    code = methods.get("cmmq-code").defaults(features_mode=False)
    assert (
        code["mq_weight"],
        code["num_gradual"],
        code["quant_weight"],
        code["proxy_assign"],
        code["text_net"],
    ) == (0.0, 20, 1e-4, "name_based", "linear2")
    assert cls.resolve_hyperparameters({"mq_weight": "0"})["mq_weight"] == 0.0
    with pytest.raises(ValueError, match="kl_reduction"):
        cls.resolve_hyperparameters({"kl_reduction": "max"})


@pytest.mark.parametrize(
    "name,key,value",
    [
        ("cmmq", "noise_rate", "1.5"),
        ("cmmq", "t_k", "0"),
        ("bce", "batch_size", "0"),
        ("cmmq-code", "num_gradual", "-1"),
        ("cmmq-code", "lr", "-0.1"),
    ],
)
def test_out_of_range_hyperparameters_refused(name, key, value):
    cls = methods.get(name)
    with pytest.raises(ValueError, match=f"{name}.{key}: expected"):
        cls.resolve_hyperparameters({key: value})
    shape, _ = tiny()
    with pytest.raises(ValueError, match=key):
        build(name, shape, **{key: value})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bits", [32, 64, 128])
def test_loss_decreases_and_codes_are_pm1(name, bits):
    shape, data = tiny()
    model = build(name, shape, bits, batch_size=32, lr=1e-3)
    first = model.fit_epoch(data, 0)
    for epoch in range(1, 6):
        last = model.fit_epoch(data, epoch)
    assert last["loss"] < first["loss"]
    assert math.isfinite(last["loss"])
    for modality in ("image", "text"):
        codes = model.encode_all(modality, getattr(data, modality))
        assert codes.dtype == torch.int8 and codes.shape == (len(data), bits)
        assert set(codes.unique().tolist()) <= {-1, 1}
    losses = model.sample_losses(data)
    assert losses.shape == (len(data),) and np.isfinite(losses).all()


def test_trained_codes_follow_labels():
    """After training on clean separable data, items with equal labels share most bits across modalities."""
    shape, data = tiny(multi=False)
    model = build("cmmq", shape, 32, batch_size=32, lr=1e-3)
    for epoch in range(15):
        model.fit_epoch(data, epoch)
    img = model.encode_all("image", data.image).float()
    txt = model.encode_all("text", data.text).float()
    same = (data.labels @ data.labels.T) > 0
    agree = (img @ txt.T) / 32
    assert agree[same].mean() > 0.5 > agree[~same].mean()


def test_selection_keeps_exact_counts():
    shape, data = tiny(n=100)
    data.noise_rate = 0.6
    cmmq = build("cmmq", shape, batch_size=32)
    log = cmmq.fit_epoch(data, 10)  # R = 0.4: ⌈12.8⌉ × 3 + ⌈1.6⌉ = 41 of 100
    assert log["keep_ratio"] == pytest.approx(0.4) and log["kept_fraction"] == pytest.approx(0.41)
    log = cmmq.fit_epoch(data, 0)
    assert log["kept_fraction"] == 1.0
    code = build("cmmq-code", shape, batch_size=32)
    log = code.fit_epoch(data, 19)  # release: ⌊12.8⌋ × 3 + max(⌊1.6⌋, 1) = 37
    assert log["keep_ratio"] == pytest.approx(0.4) and log["kept_fraction"] == pytest.approx(0.37)
    bce = build("bce", shape, batch_size=32)
    log = bce.fit_epoch(data, 10)
    assert log["kept_fraction"] == 1.0 and "mq_loss" not in log


def test_noise_rate_hyperparameter_overrides_runner_rate():
    shape, data = tiny(n=64)
    data.noise_rate = 0.6
    model = build("cmmq", shape, batch_size=64, noise_rate=0.2)
    log = model.fit_epoch(data, 10)
    assert log["noise_rate_used"] == 0.2 and log["keep_ratio"] == pytest.approx(0.8)


def test_selection_trains_only_on_small_loss_samples():
    """With R < 1 the update equals one step on the kept samples alone."""
    shape, data = tiny(n=32)
    data.noise_rate = 0.5
    # raw inputs: a and b see different training sets, so fitted input statistics would differ
    a = build("cmmq", shape, batch_size=32, seed=3, input_norm="none")
    b = build("cmmq", shape, batch_size=32, seed=3, input_norm="none")
    joint = a.sample_losses(data)
    kept = np.sort(np.argsort(joint, kind="stable")[:16])
    a.fit_epoch(data, 10)  # keep ⌈0.5 · 32⌉ = 16
    sub = data.subset(torch.as_tensor(kept))
    sub.noise_rate = 0.0
    b.fit_epoch(sub, 0)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=False):
        assert torch.allclose(pa, pb, atol=1e-6)


def test_deterministic_given_seed():
    shape, data = tiny()
    runs = []
    for _ in range(2):
        model = build("cmmq", shape, batch_size=16, seed=7)
        model.fit_epoch(data, 0)
        model.fit_epoch(data, 1)
        runs.append(model.encode_all("text", data.text))
    assert torch.equal(runs[0], runs[1])


def test_targets_are_majority_votes_with_per_modality_labels():
    shape, data = tiny()
    model = build("cmmq", shape, 32)
    text_labels = data.labels.flip(1)
    data.text_labels = text_labels
    o_image, o_text = model._targets(data)
    assert torch.equal(o_image, majority_vote(data.labels, model.proxies, model.tie))
    assert torch.equal(o_text, majority_vote(text_labels, model.proxies, model.tie))


def test_sample_losses_are_the_joint_loss():
    shape, data = tiny()
    model = build("cmmq", shape, 32)
    model.eval()
    with torch.no_grad():
        b_i, b_t = model.image_net(data.image), model.text_net(data.text)
        o = majority_vote(data.labels, model.proxies, model.tie)
        pc = sum(
            torch.nn.functional.binary_cross_entropy((x + 1) / 2, (o + 1) / 2, reduction="none").mean(1)
            + 1e-4 * (x.abs() - 1).pow(2).sum(1)
            for x in (b_i, b_t)
        )
        p, q = ((b_i + 1) / 2).clamp(1e-6, 1 - 1e-6), ((b_t + 1) / 2).clamp(1e-6, 1 - 1e-6)
        kl = (
            p * (p / q).log()
            + (1 - p) * ((1 - p) / (1 - q)).log()
            + q * (q / p).log()
            + (1 - q) * ((1 - q) / (1 - p)).log()
        ).mean(1)
    assert np.allclose(model.sample_losses(data), (pc + 0.7 * kl).numpy(), atol=1e-5)


def test_mq_weight_zero_removes_mutual_term():
    shape, data = tiny()
    model = build("cmmq", shape, 32, mq_weight=0)
    log = model.fit_epoch(data, 0)
    assert "mq_loss" not in log


@pytest.mark.parametrize("name,keep,tries", [("cmmq", "best", 100), ("cmmq-code", "last", 20)])
def test_many_classes_warns_when_proxy_criteria_unmet(name, keep, tries):
    shape = ProblemShape(ModalityShape("features", 4), ModalityShape("bow", 3), 5, True, 8, "tiny")
    with pytest.warns(RuntimeWarning, match=f"distance criteria .* using the {keep} draw"):
        model = build(name, shape, 2)
    summary = model.extra_state_for_store()["proxies"]
    assert summary["criteria_met"] is False and summary["random_tries"] == tries


# ---------------------------------------------------------------- released-code specifics
@pytest.mark.parametrize(
    "dataset,argmax",
    [
        ("nuswide10", True),
        ("NUS-WIDE", True),
        ("nuswide", True),
        ("nuswide_21", False),
        ("ms-coco", True),
        ("mscoco", True),
        ("mirflickr", False),
        ("flickr", False),
        ("synthetic", False),
        ("wikipedia", False),
    ],
)
def test_release_name_rule(dataset, argmax):
    assert release_assigns_by_argmax(dataset) is argmax


def test_release_assignment_by_dataset_name():
    shape, data = tiny()
    coco = ProblemShape(shape.image, shape.text, shape.num_classes, True, len(data), "ms-coco")
    model = build("cmmq-code", coco, 32)
    assert model.assign_rule == "argmax"
    assert torch.equal(model.assign_targets(data.labels), argmax_assign(data.labels, model.proxies))
    voted = build("cmmq-code", shape, 32)
    assert voted.assign_rule == "vote"
    forced = build("cmmq-code", coco, 32, proxy_assign="vote")
    assert forced.assign_rule == "vote"


def test_release_text_net_is_linear_and_skips_fc2():
    torch.manual_seed(0)
    net = ReleaseTextNet(10, 32)
    assert net.hidden == 21
    x, y = torch.randn(3, 10), torch.randn(3, 10)
    assert torch.allclose(net(0.3 * x + 0.7 * y), 0.3 * net(x) + 0.7 * net(y), atol=1e-5)
    assert torch.allclose(net(x), net.fc3(net.fc1(x)))
    net(x).sum().backward()
    assert net.fc2.weight.grad is None


def test_release_loss_by_hand():
    shape, _ = tiny()
    model = build("cmmq-code", shape, 32, mq_weight=0.5)
    u, v = torch.tanh(torch.randn(5, 32)), torch.tanh(torch.randn(5, 32))
    o = torch.sign(torch.randn(5, 32))
    bce = torch.nn.functional.binary_cross_entropy
    t = (o + 1) / 2
    per_bit = (
        bce((u + 1) / 2, t, reduction="none")
        + bce((v + 1) / 2, t, reduction="none")
        + 1e-4 * ((u.abs() - 1) ** 2 + (v.abs() - 1) ** 2)
    )
    mq = -torch.log(torch.softmax(u @ v.T, dim=0).diagonal())
    assert torch.allclose(model.losses(u, v, o, o)["joint"], per_bit.mean(1) + 0.5 * mq, atol=1e-5)


def test_release_image_views():
    x = torch.arange(2 * 3 * 256 * 256, dtype=torch.float32).reshape(2, 3, 256, 256) % 256
    x = x.to(torch.uint8)
    test = release_test_view(x)
    assert test.shape == (2, 3, 224, 224)
    assert torch.allclose(test, x[:, :, 16:240, 16:240].float() / 255)
    g = torch.Generator().manual_seed(0)
    train = release_train_view(x, g)
    assert train.shape == (2, 3, 224, 224) and 0 <= train.min() and train.max() <= 1


@pytest.mark.parametrize("name", ["cmmq", "cmmq-code"])
def test_raw_images_end_to_end(name):
    n = 3
    g = torch.Generator().manual_seed(0)
    shape = ProblemShape(ModalityShape("images", (3, 32, 32)), ModalityShape("bow", 6), 3, False, n, "tiny")
    labels = torch.zeros(n, 3)
    labels[torch.arange(n), torch.tensor([0, 1, 2])] = 1
    data = TrainData(
        torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8),
        torch.rand(n, 6, generator=g),
        labels,
    )
    model = build(name, shape, 16, backbone_weights="none", batch_size=2)
    assert model.hp["lr"] == 1e-5  # the paper's end-to-end rate
    log = model.fit_epoch(data, 0)  # batches of 2 and 1: the single-sample batch is skipped
    assert log["kept_fraction"] == 1.0 and math.isfinite(log["loss"])
    codes = model.encode_all("image", data.image)
    assert codes.shape == (n, 16) and set(codes.unique().tolist()) <= {-1, 1}


def test_code_sample_losses_use_training_batches():
    """cmmq-code's InfoNCE MQ term depends on the batch: Figure 6's per-sample losses are computed in
    mini-batches of the training batch size (not one chunk of the whole set), every item once."""
    from xbench.methods.quantization import proxy_bce, release_infonce

    shape, data = tiny(n=100)
    model = build("cmmq-code", shape, 32, batch_size=25, mq_weight=1.0)
    losses = model.sample_losses(data)
    model.eval()
    with torch.no_grad():
        b_i, b_t = (
            model.outputs("image", data.image, train=False),
            model.outputs("text", data.text, train=False),
        )
        o_i, o_t = model._targets(data)
        pc = (
            proxy_bce(b_i, o_i)
            + proxy_bce(b_t, o_t)
            + model.hp["quant_weight"] * ((b_i.abs() - 1).pow(2) + (b_t.abs() - 1).pow(2)).mean(1)
        )
        whole = (pc + release_infonce(b_i, b_t)).numpy()
    mq = losses - pc.numpy()  # the MQ part of each item, from its own batch of 25
    assert losses.shape == (100,) and np.isfinite(losses).all()
    assert not np.allclose(losses, whole, atol=1e-3)  # a single 100-item chunk gives other losses
    assert mq.mean() < release_infonce(b_i, b_t).mean().item()  # fewer in-batch negatives: log 25 < log 100
    assert (mq >= 0).all() and (mq <= math.log(25) + 2 * 32).all()
    model2 = build("cmmq-code", shape, 32, batch_size=100, mq_weight=1.0)
    assert np.allclose(model2.sample_losses(data), whole, atol=1e-5)


@pytest.mark.parametrize("name", ["bce", "cmmq", "cmmq-code"])
def test_proxy_family_standardises_precomputed_features_only(name):
    """input_norm=standardize-features (the default): the networks see (x − mean)/std of the training
    features on the image side and the raw bag of words on the text side, so features × 100 give the
    same codes (the collapse at image_scale=100 that this default removes)."""
    shape, data = tiny()
    model = build(name, shape, seed=1)
    assert model.hp["input_norm"] == "standardize-features"
    model.fit_epoch(data, 0)
    model.eval()
    x = data.image.float()
    z = (x - x.mean(0)) / x.std(0, unbiased=False).clamp_min(1e-6)
    with torch.no_grad():
        got_image = model.continuous("image", data.image)
        assert torch.allclose(got_image.tanh(), model.net("image")(z).tanh(), atol=1e-5)
        assert torch.allclose(
            model.continuous("text", data.text).tanh(), model.net("text")(data.text).tanh(), atol=1e-6
        )
    scaled = build(name, shape, seed=1)
    big = TrainData(data.image * 100, data.text, data.labels, noise_rate=0.0)
    scaled.fit_epoch(big, 0)
    scaled.eval()
    assert torch.equal(scaled.encode_all("image", big.image), model.encode_all("image", data.image))
