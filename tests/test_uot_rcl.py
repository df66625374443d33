"""uot-rcl (methods/uot_rcl.py): registration, training on tiny data, label-correction bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xbench.methods import ModalityShape, ProblemShape, TrainData, get, uot_rcl
from xbench.methods.uot_rcl import UOTRCL

TINY = {"networks": "mlp", "hidden": 32, "batch_size": 20, "warmup_epochs": 1, "ramp_epochs": 2, "lr": 1e-3}


def tiny_data(n: int = 90, c: int = 3, rate: float = 0.3, seed: int = 0, multi_label: bool = False):
    """Well-separated class clusters in both modalities; symmetric noise on a fixed fraction."""
    rng = np.random.default_rng(seed)
    clean_idx = np.arange(n) % c
    centres_i, centres_t = rng.normal(size=(c, 8)) * 3, rng.normal(size=(c, 6)) * 3
    image = centres_i[clean_idx] + rng.normal(size=(n, 8))
    text = centres_t[clean_idx] + rng.normal(size=(n, 6))
    clean = np.eye(c, dtype=np.uint8)[clean_idx]
    if multi_label:
        clean[np.arange(0, n, 2), (clean_idx[::2] + 1) % c] = 1
    noisy_idx = clean_idx.copy()
    flip = rng.random(n) < rate
    noisy_idx[flip] = (clean_idx[flip] + rng.integers(1, c, flip.sum())) % c
    noisy = clean.copy()
    if multi_label:
        noisy[flip] = np.roll(clean[flip], 1, axis=1)
    else:
        noisy[flip] = np.eye(c, dtype=np.uint8)[noisy_idx[flip]]
    shape = ProblemShape(
        ModalityShape("features", 8),
        ModalityShape("features", 6),
        c,
        multi_label=multi_label,
        num_train=n,
        dataset="tiny",
    )
    data = TrainData(
        torch.tensor(image, dtype=torch.float32),
        torch.tensor(text, dtype=torch.float32),
        torch.tensor(noisy, dtype=torch.float32),
        noise_rate=rate,
    )
    return shape, data, clean, noisy, flip


def make(shape: ProblemShape, bits: int = 16, seed: int = 0, **hp) -> UOTRCL:
    torch.manual_seed(seed)
    return UOTRCL(shape, bits, seed=seed, **{**TINY, **hp})


def test_registered_with_sourced_hyperparameters():
    assert get("uot-rcl") is UOTRCL
    assert UOTRCL.name == "uot-rcl" and "2403.13480" in UOTRCL.paper
    for key, hyper in UOTRCL.hyperparameters.items():
        assert hyper.source, key
    # reconstructed choices are marked as such
    for key in ("warmup_epochs", "ramp_epochs", "cost_temperature", "momentum", "select_threshold"):
        assert "[R" in UOTRCL.hyperparameters[key].source, key
    assert uot_rcl.__doc__.count("[R]") >= 8


def test_trains_and_encodes_pm1_codes():
    shape, data, *_ = tiny_data()
    method = make(shape)
    logs = [method.fit_epoch(data, e) for e in range(4)]
    for log in logs:
        for key in (
            "loss",
            "loss_class",
            "loss_align",
            "mass",
            "moved",
            "transported",
            "changed",
            "relabelled",
            "plan_cost",
            "lr",
        ):
            assert key in log and np.isfinite(log[key]), key
    assert logs[0]["mass"] == 0.0 and logs[0]["transported"] == 0.0  # warm-up
    assert [round(log["mass"], 6) for log in logs[1:]] == [0.3, 0.65, 1.0]
    assert logs[1]["moved"] == pytest.approx(0.3, abs=1e-9)
    assert logs[3]["transported"] == len(data)  # all the mass moves at m = 1
    codes = method.encode_all("text", data.text)
    assert codes.dtype == torch.int8 and codes.shape == (len(data), 16)
    assert set(codes.unique().tolist()) <= {-1, 1}
    h = method.continuous("image", data.image[:5]).detach()
    assert h.shape == (5, 16) and float(h.abs().max()) < 1
    torch.testing.assert_close(method.embed("image", data.image[:5]).norm(dim=1), torch.ones(5))
    torch.testing.assert_close(
        method.encode("image", data.image[:5]), torch.where(h >= 0, 1, -1).to(torch.int8)
    )


def test_corrected_labels_and_statistics_bookkeeping():
    shape, data, clean, noisy, flip = tiny_data()
    method = make(shape, momentum=0.0)
    assert method.corrected_labels() is None
    method.fit_epoch(data, 0)
    np.testing.assert_array_equal(method.corrected_labels(), noisy)  # warm-up changes nothing
    previous = method.corrected_labels()
    for epoch in range(1, 8):  # standardised inputs (the default) learn these clusters by epoch 7
        log = method.fit_epoch(data, epoch)
        labels = method.corrected_labels()
        assert labels.shape == noisy.shape and labels.dtype == np.uint8
        np.testing.assert_array_equal(labels.sum(1), 1)
        assert log["changed"] == (labels != previous).any(1).sum()
        assert log["relabelled"] == (labels != noisy).any(1).sum()
        previous = labels
    # corrected labels beat the noisy ones on these well-separated clusters
    same = (previous == clean).all(1)
    assert same.mean() > (noisy == clean).all(1).mean() + 0.1
    assert same[flip].mean() > 0.5  # most corrupted samples fixed
    # the method's own copy is not exposed for mutation
    method.corrected_labels()[:] = 0
    assert method.corrected_labels().sum() == len(data)


def test_momentum_delays_relabelling():
    shape, data, *_ = tiny_data()
    method = make(shape, momentum=0.6, mass_start=1.0)
    method.fit_epoch(data, 0)
    first = method.fit_epoch(data, 1)
    # a one-hot label needs two agreeing plan rows to flip with μ = 0.6
    assert first["changed"] == 0 and first["transported"] == len(data)
    second = method.fit_epoch(data, 2)
    assert second["changed"] > 0


def test_learning_rate_auto_and_cosine():
    shape, data, *_ = tiny_data(n=20)
    assert make(shape, lr=0.0).base_lr == 1e-4
    assert make(shape, lr=0.0, networks="shared").base_lr == 1e-3
    method = make(shape, lr=2e-3, cosine_epochs=4)
    lrs = [method.fit_epoch(data, e)["lr"] for e in range(3)]
    assert lrs == pytest.approx([2e-3, 2e-3 * 0.5 * (1 + np.cos(np.pi / 4)), 1e-3])
    data.epochs = 2  # the run's length, when the runner passes it
    assert make(shape, lr=1e-3).fit_epoch(data, 1)["lr"] == pytest.approx(0.5e-3)


def test_deterministic_given_seed():
    shape, data, *_ = tiny_data()
    runs = []
    for _ in range(2):
        method = make(shape, seed=3)
        logs = [method.fit_epoch(data, e) for e in range(3)]
        runs.append((logs, method.encode_all("image", data.image), method.corrected_labels()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_multilabel_keeps_label_counts():
    shape, data, _, noisy, _ = tiny_data(multi_label=True)
    method = make(shape, mass_start=1.0, momentum=0.0)
    for epoch in range(3):
        method.fit_epoch(data, epoch)
    labels = method.corrected_labels()
    np.testing.assert_array_equal(labels.sum(1), noisy.sum(1))


def test_per_modality_labels_are_kept_apart():
    shape, data, clean, noisy, _ = tiny_data()
    text_noisy = clean.copy()
    data.text_labels = torch.tensor(text_noisy, dtype=torch.float32)
    method = make(shape)
    method.fit_epoch(data, 0)
    np.testing.assert_array_equal(method.corrected_labels(), noisy)
    np.testing.assert_array_equal(method.corrected_text_labels(), text_noisy)
    log = method.fit_epoch(data, 1)
    assert "changed_text" in log and "relabelled_text" in log
    assert method.extra_state_for_store()["per_modality_labels"] is True


def test_variants_run():
    shape, data, *_ = tiny_data(n=40)
    for hp in (
        {"ot_solver": "exact", "class_loss": "ce"},
        {"vote_weight": 0.5, "vote_k": 3, "label_weight": 0.3},
        {"relation_weight": 0.0, "mc_weight": 1.0},
        {"mc_weight": 0.5, "networks": "shared"},
        {"relation_mass": 0.5, "unselected_weight": 0.0, "quant_weight": 0.1, "class_prior": "uniform"},
    ):
        method = make(shape, **hp)
        logs = [method.fit_epoch(data, e) for e in range(2)]
        assert all(np.isfinite(v) for log in logs for v in log.values()), hp


def test_features_mode_defaults_to_the_shared_networks_and_a_budget_relative_schedule():
    shape, data, *_ = tiny_data(n=40)
    method = UOTRCL(shape, 16, batch_size=20)  # no TINY: the declared defaults
    assert method.hp["networks"] == "shared" and method.base_lr == 1e-3
    assert type(method.image_net).__name__ == "ImageNet" and type(method.text_net).__name__ == "TextNet"
    assert method.hp["warmup_epochs"] == -1 and method.hp["ramp_epochs"] == -1
    raw = ProblemShape(ModalityShape("images", (3, 32, 32)), ModalityShape("bow", 12), 2, False, 4, "raw")
    assert UOTRCL.resolve_hyperparameters({}, features_mode=raw.features_defaults)["networks"] == "mlp"
    data.epochs = 10  # the run's budget: warm-up 2 epochs, then the mass ramps over 4
    logs = [method.fit_epoch(data, e) for e in range(4)]
    assert [log["mass"] for log in logs] == pytest.approx([0.0, 0.0, 0.3, 0.475])
    assert method.extra_state_for_store()["warmup_ramp_epochs"] == [2, 4]


@pytest.mark.parametrize(
    "hp, match",
    [
        ({"mass_start": 0.0}, "mass_start"),
        ({"momentum": 1.0}, "momentum"),
        ({"ot_solver": "sinkhorn"}, "ot_solver"),
        ({"batch_size": 1}, "batch_size"),
        ({"bogus": 1}, "bogus"),
        ({"lr": -1.0}, "lr"),
        ({"networks": "vgg"}, "networks"),
        ({"vote_weight": 0.7, "label_weight": 0.5}, "at most 1"),
        ({"warmup_epochs": -2}, "warmup_epochs"),
        ({"ramp_epochs": -3}, "ramp_epochs"),
    ],
)
def test_bad_hyperparameters_raise(hp, match):
    shape, *_ = tiny_data(n=10)
    with pytest.raises(ValueError, match=match):
        make(shape, **hp)


@pytest.mark.slow
def test_raw_images_go_through_resnet18():
    g = torch.Generator().manual_seed(0)
    n = 2  # ResNet-18 at 224×224 on CPU: keep it tiny
    shape = ProblemShape(
        ModalityShape("images", (3, 32, 32)),
        ModalityShape("bow", 12),
        2,
        multi_label=False,
        num_train=n,
        dataset="tiny-raw",
    )
    data = TrainData(
        torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8),
        (torch.rand(n, 12, generator=g) > 0.5).float(),
        torch.eye(2)[torch.arange(n) % 2],
    )
    method = make(shape, bits=8, hidden=8, batch_size=2, weights="none", warmup_epochs=0)
    log = method.fit_epoch(data, 0)  # no warm-up: the semantic step embeds the raw images first
    assert np.isfinite(log["loss"]) and log["moved"] == pytest.approx(0.3, abs=1e-9)
    codes = method.encode_all("image", data.image)
    assert codes.shape == (n, 8) and set(codes.unique().tolist()) <= {-1, 1}


def test_training_objective_composition(monkeypatch):
    """loss = β·L_cls + (1−β)·L_align + q·½(mean(|h^I|−1)² + mean(|h^T|−1)²), with L_align = L_MC in warm-up
    and w_mc·L_MC + w_rel·L_rel after it; L_cls sums both modalities. The component losses (tested
    elsewhere) are replaced by constants so that every weight and sign shows in the logged value."""
    c_cls, c_mc, c_rel = 2.0, 3.0, 5.0

    def const(value):
        def f(z, *args, **kwargs):
            return z.sum() * 0.0 + value

        return f

    monkeypatch.setattr(
        uot_rcl, "weighted_class_loss", lambda logits, labels, weight, kind: logits.sum() * 0.0 + c_cls
    )
    monkeypatch.setattr(uot_rcl, "multimodal_contrastive_loss", const(c_mc))
    monkeypatch.setattr(uot_rcl, "relation_loss", const(c_rel))
    beta, w_mc, w_rel, q = 0.3, 0.7, 0.4, 0.9
    shape, data, *_ = tiny_data(n=40)
    method = make(shape, batch_size=40, beta=beta, mc_weight=w_mc, relation_weight=w_rel, quant_weight=q)

    def quant():
        with torch.no_grad():
            hi, ht = method.continuous("image", data.image), method.continuous("text", data.text)
        return 0.5 * (float(((hi.abs() - 1) ** 2).mean()) + float(((ht.abs() - 1) ** 2).mean()))

    method.inputs.fit(data)  # the input scaling that fit_epoch fits first (training statistics)
    q0 = quant()
    warm = method.fit_epoch(data, 0)
    assert warm["loss_class"] == pytest.approx(2 * c_cls) and warm["loss_align"] == pytest.approx(c_mc)
    assert warm["loss_quant"] == pytest.approx(q0, rel=1e-5)
    assert warm["loss"] == pytest.approx(beta * 2 * c_cls + (1 - beta) * c_mc + q * q0, rel=1e-5)
    q1 = quant()
    after = method.fit_epoch(data, 1)
    assert after["loss_align"] == pytest.approx(w_mc * c_mc + w_rel * c_rel)
    assert after["loss"] == pytest.approx(
        beta * 2 * c_cls + (1 - beta) * (w_mc * c_mc + w_rel * c_rel) + q * q1, rel=1e-5
    )
