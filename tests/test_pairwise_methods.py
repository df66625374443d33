"""``dcmh``, ``prdh`` and ``cmhh``: batch gradients, the B-step, training on tiny data, codes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.datasets.synthetic import make_synthetic
from xbench.methods import ModalityShape, ProblemShape, TrainData
from xbench.methods.pairwise import decorrelation_loss, pairwise_nll, similarity

from .conftest import TINY

PAIRWISE = ("dcmh", "prdh", "cmhh")


# TINY, with about half of the pairs similar as on the default synthetic set (TINY's 3.5 labels
# out of 8 classes make 88% of the pairs similar); batches of 32 so that an epoch has 4 steps.
DATA = {**TINY, "mean_labels": 2.0}
SMALL_BATCH = {"batch_size": 32}


def tiny_problem() -> tuple[ProblemShape, TrainData]:
    data = make_synthetic(**DATA)
    tr = data.split.train
    train = TrainData(
        torch.from_numpy(data.take("image", tr)).float(),
        torch.from_numpy(data.take("text", tr)).float(),
        torch.from_numpy(data.take("labels", tr).astype(np.float32)),
    )
    shape = ProblemShape(
        ModalityShape(data.image_kind, data.image_dim),
        ModalityShape(data.text_kind, data.text_dim),
        data.num_classes,
        data.multi_label,
        len(train),
        data.name,
    )
    return shape, train


def make(name: str, bits: int = 16, seed: int = 0, **hp):
    shape, train = tiny_problem()
    torch.manual_seed(seed)
    return methods.get(name)(shape, bits, seed=seed, **hp), train


def filled_buffers(m, train, seed: int = 3) -> None:
    """Buffers with non-trivial values (as after some training)."""
    m.inputs.fit(train)
    m.build_buffers(train)
    g = torch.Generator().manual_seed(seed)
    m.F = torch.randn(len(train), m.bits, generator=g)
    m.G = torch.randn(len(train), m.bits, generator=g)
    m.update_codes()


def test_registered_with_cited_defaults():
    for name in PAIRWISE:
        cls = methods.get(name)
        assert cls.name == name and cls.paper and cls.description
        for key, hyper in cls.hyperparameters.items():
            assert hyper.source and hyper.help, f"{name}.{key} lacks a source or meaning"
            if hyper.choices is not None:
                assert hyper.default in hyper.choices
                if hyper.features_default is not None:
                    assert hyper.features_default in hyper.choices
    # features-mode learning rates differ from the end-to-end (DCMH code) ones and are applied
    features = methods.get("dcmh").defaults(features_mode=True)
    raw = methods.get("dcmh").defaults(features_mode=False)
    assert raw["lr_image"] == pytest.approx(10**-1.5) and features["lr_image"] != raw["lr_image"]
    m, _ = make("dcmh")
    assert m.hp["lr_image"] == features["lr_image"]


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="sampling"):
        make("dcmh", sampling="bogus")
    with pytest.raises(ValueError, match="batch_size"):
        make("prdh", batch_size=0)
    with pytest.raises(ValueError, match="cmhh.batch_size"):
        make("cmhh", batch_size=1)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        make("cmhh", lr=0.1)


def test_dcmh_batch_gradient_is_the_official_one():
    """d(loss)/du = [½(σ(Θ) − S)G + 2γ(u − B) + 2η F·1] / (n·bs) (process_DCMH.m, update_net.m)."""
    m, train = make("dcmh", gamma=0.7, eta=1.3)
    filled_buffers(m, train)
    idx = torch.tensor([0, 5, 7, 11])
    u = torch.randn(len(idx), m.bits, requires_grad=True)
    m.F[idx] = u.detach()
    loss, terms = m.batch_terms("image", u, idx, train)
    assert float(loss.detach()) == pytest.approx(sum(float(v.detach()) for v in terms.values()))
    (grad,) = torch.autograd.grad(loss, u)
    n, bs = len(train), len(idx)
    s = similarity(train.labels[idx], train.labels)
    sig = torch.sigmoid(0.5 * u.detach() @ m.G.t())
    want = (0.5 * (sig - s) @ m.G + 2 * 0.7 * (u.detach() - m.B[idx]) + 2 * 1.3 * m.F.sum(0)) / (n * bs)
    assert torch.allclose(grad, want, atol=1e-6, rtol=1e-4)
    # the text step is the mirror image: Θ = ½ v Fᵀ, F fixed
    v = torch.randn(len(idx), m.bits, requires_grad=True)
    m.G[idx] = v.detach()
    loss, _ = m.batch_terms("text", v, idx, train)
    (grad,) = torch.autograd.grad(loss, v)
    sig = torch.sigmoid(0.5 * v.detach() @ m.F.t())
    want = (0.5 * (sig - s) @ m.F + 2 * 0.7 * (v.detach() - m.B[idx]) + 2 * 1.3 * m.G.sum(0)) / (n * bs)
    assert torch.allclose(grad, want, atol=1e-6, rtol=1e-4)


def test_prdh_batch_gradient_is_the_gradient_of_the_full_objective():
    """Without decorrelation, the batch loss has the gradient of J(F with live batch rows) / (n·bs)."""
    m, train = make("prdh", lam=0.0, gamma=0.5, eta=2.0, w_intra=0.8)
    filled_buffers(m, train)
    idx = torch.tensor([1, 2, 30, 64, 99])
    u = torch.randn(len(idx), m.bits, requires_grad=True)
    m.F[idx] = u.detach()
    loss, terms = m.batch_terms("image", u, idx, train)
    (grad,) = torch.autograd.grad(loss, u)
    assert float(terms["decorrelation"].detach()) == 0.0

    u2 = u.detach().clone().requires_grad_(True)
    rows = torch.zeros(len(train), dtype=torch.bool)
    rows[idx] = True
    full = m.F.clone()
    full = torch.where(rows[:, None], torch.zeros_like(full), full).index_put((idx,), u2)
    lab = train.labels
    j = (
        pairwise_nll(0.5 * full @ m.G.t(), similarity(lab, lab)).sum()
        + 0.8 * pairwise_nll(0.5 * full @ full.t(), similarity(lab, lab)).sum()
        + 0.5 * ((m.B - full) ** 2).sum()
        + 2.0 * (full.sum(0) ** 2).sum()
    )
    (want,) = torch.autograd.grad(j / (len(train) * len(idx)), u2)
    assert torch.allclose(grad, want, atol=1e-6, rtol=1e-4)

    # the decorrelation term is λ·D of the batch outputs
    m2, _ = make("prdh", lam=0.25)
    filled_buffers(m2, train)
    m2.F[idx] = u.detach()
    _, terms = m2.batch_terms("image", u, idx, train)
    assert float(terms["decorrelation"].detach()) == pytest.approx(
        0.25 * float(decorrelation_loss(u.detach())), rel=1e-5
    )


@pytest.mark.parametrize("name", ["dcmh", "prdh"])
def test_buffers_and_b_step(name):
    """One full-batch epoch: F, G hold the pre-step outputs of each net and B = sign(F + G)."""
    n = len(tiny_problem()[1])
    m, train = make(name, batch_size=n, sampling="epoch")
    m.inputs.fit(train)
    with torch.no_grad():
        f0 = m.continuous("image", train.image).clone()
        g0 = m.continuous("text", train.text).clone()
    log = m.fit_epoch(train, 0)
    assert torch.allclose(m.F, f0) and torch.allclose(m.G, g0)
    assert torch.equal(m.B, torch.sign(m.F + m.G))
    assert set(m.B.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert log["loss"] == pytest.approx(log["objective"]) and np.isfinite(log["batch_loss"])
    # the networks moved, the buffers did not (they are refreshed by the next pass)
    with torch.no_grad():
        assert not torch.allclose(m.continuous("image", train.image), f0)
    # default (independent random batches): B = sign(F + G) after every epoch as well
    m, train = make(name)
    for epoch in range(2):
        m.fit_epoch(train, epoch)
        assert torch.equal(m.B, torch.sign(m.F + m.G))
    with pytest.raises(ValueError, match="must not change"):
        m.fit_epoch(train.subset(torch.arange(10)), 2)


def test_dcmh_zero_buffers_start_with_zero_codes():
    m, train = make("dcmh", first="text")
    m.inputs.fit(train)
    m.build_buffers(train)
    assert torch.count_nonzero(m.B) == 0  # MATLAB: F = G = 0, e_sign(0) = 0
    m2, _ = make("dcmh", buffer_init="normal")
    m2.build_buffers(train)
    assert torch.count_nonzero(m2.B) == m2.B.numel()


def test_cmhh_batch_loss_by_hand():
    m, train = make("cmhh", beta=0.4, gamma=1.5, lam=0.2)
    g = torch.Generator().manual_seed(0)
    hi, ht = torch.tanh(torch.randn(6, 16, generator=g)), torch.tanh(torch.randn(6, 16, generator=g))
    s = similarity(train.labels[:6], train.labels[:6])
    n_pos, n_all = float(s.sum()), 36.0
    total = 0.0
    for i in range(6):
        for j in range(6):
            cos = float(hi[i] @ ht[j] / (hi[i].norm() * ht[j].norm()))
            d = 8.0 * (1 - cos)
            p = np.exp(-0.4 * d)
            if s[i, j] > 0:
                total += n_all / n_pos * (1 - p) ** 1.5 * 0.4 * d
            else:
                total -= n_all / (n_all - n_pos) * p**1.5 * np.log(1 - p)
    assert float(m.pair_loss(hi, ht, s)) == pytest.approx(total / n_all, rel=1e-4)


# Learning rates for 120 training items: the features-mode defaults are set for n ≥ 2000
# (the balance term's curvature along the output bias is 2η·bs/n, README "SGD stability").
TINY_HP = {
    "dcmh": {**SMALL_BATCH, "lr_image": 1.0, "lr_text": 1.0, "objective_every": 1},
    "prdh": {**SMALL_BATCH, "lr_image": 0.3, "lr_text": 0.3, "objective_every": 1},
    "cmhh": SMALL_BATCH,
}


@pytest.mark.parametrize("name", ["dcmh", "prdh"])
def test_objective_is_logged_on_due_epochs_and_never_changes_training(name):
    """J (``loss``, ``objective*``) is logged after epoch 1, every ``objective_every``-th epoch and the
    last; the codes and buffers are the same whatever the setting (J is only read, never trained on)."""
    runs = {}
    for every in (1, 3, 0):
        m, train = make(name, bits=8, seed=2, **{**TINY_HP[name], "objective_every": every})
        train.epochs = 7
        logged = [("loss" in m.fit_epoch(train, epoch)) for epoch in range(7)]
        runs[every] = (m.B.clone(), m.F.clone(), logged)
    assert runs[1][2] == [True] * 7
    assert runs[3][2] == [True, False, True, False, False, True, True]
    assert runs[0][2] == [True, False, False, False, False, False, True]
    for every in (3, 0):
        assert torch.equal(runs[every][0], runs[1][0]) and torch.equal(runs[every][1], runs[1][1])


@pytest.mark.parametrize("name", PAIRWISE)
def test_training_decreases_loss_and_emits_codes(name):
    m, train = make(name, bits=16, **TINY_HP[name])
    losses = []
    for epoch in range(8):
        m.train()
        log = m.fit_epoch(train, epoch)
        assert all(np.isfinite(v) for v in log.values())
        losses.append(log["loss"])
    # from epoch 2 on (the first B-step of dcmh/prdh sees buffers not yet fully refreshed)
    assert losses[-1] < losses[1]
    assert sum(b < a for a, b in itertools.pairwise(losses[1:])) >= 5, losses
    for modality in ("image", "text"):
        codes = m.encode_all(modality, getattr(train, modality))
        assert codes.dtype == torch.int8 and codes.shape == (len(train), 16)
        assert set(codes.unique().tolist()) <= {-1, 1}
    per_sample = m.sample_losses(train)
    assert per_sample.shape == (len(train),) and np.isfinite(per_sample).all()


@pytest.mark.parametrize("name", PAIRWISE)
def test_deterministic_given_the_seed(name):
    codes = []
    for _ in range(2):
        m, train = make(name, bits=8, seed=5)
        for epoch in range(2):
            m.fit_epoch(train, epoch)
        codes.append(m.encode_all("text", train.text))
    assert torch.equal(codes[0], codes[1])


def _train_map(m, train: TrainData) -> float:
    from xbench.evaluating import metrics

    qi, dt = m.encode_all("image", train.image), m.encode_all("text", train.text)
    return metrics.mean_average_precision(qi, dt, train.labels, train.labels, topk=None)


@pytest.mark.parametrize("name", PAIRWISE)
def test_learned_codes_beat_the_untrained_ones(name):
    """On the training pairs, cross-modal retrieval improves with training."""
    m, train = make(name, bits=16, **TINY_HP[name])
    m.inputs.fit(train)
    before = _train_map(m, train)
    for epoch in range(15):
        m.fit_epoch(train, epoch)
    assert _train_map(m, train) > before + 0.05


def test_raw_images_end_to_end_mode():
    shape = ProblemShape(ModalityShape("images", (3, 16, 16)), ModalityShape("bow", 12), num_classes=3)
    g = torch.Generator().manual_seed(0)
    train = TrainData(
        torch.randint(0, 256, (6, 3, 16, 16), generator=g, dtype=torch.uint8),
        torch.rand(6, 12, generator=g),
        torch.eye(3)[[0, 1, 2, 0, 1, 2]],
    )
    torch.manual_seed(0)
    m = methods.get("dcmh")(shape, 8, backbone_weights="none", batch_size=3)
    assert m.hp["lr_image"] == pytest.approx(10**-1.5)  # end-to-end defaults
    assert m.inputs.mode["image"] == "none"
    log = m.fit_epoch(train, 0)
    assert np.isfinite(log["loss"])
    codes = m.encode_all("image", train.image)
    assert codes.shape == (6, 8) and set(codes.unique().tolist()) <= {-1, 1}


@pytest.mark.parametrize("quantization", ["exponential", "square"])
def test_cmhh_training_objective_by_hand(quantization):
    """fit_epoch's objective = focal pair loss + λ·½(mean_i q(h^I_i) + mean_j q(h^T_j)), every term and
    sign checked against a numpy computation (one full batch, so the logged loss is that of the
    networks before the step)."""
    beta, gamma, lam = 0.3, 2.0, 0.7
    m, train = make(
        "cmhh", beta=beta, gamma=gamma, lam=lam, quantization=quantization, batch_size=len(train_n())
    )
    m.inputs.fit(train)
    m._fitted = True
    with torch.no_grad():
        hi = m.continuous("image", train.image).double().numpy()
        ht = m.continuous("text", train.text).double().numpy()
    y = train.labels.double().numpy()
    s = (y @ y.T > 0).astype(float)
    k = hi.shape[1]

    def cosine(a, b):
        return (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (
            b / np.linalg.norm(b, axis=1, keepdims=True)
        ).T

    d = 0.5 * k * (1 - cosine(hi, ht))
    p = np.exp(-beta * d)
    w = np.where(s > 0, s.size / s.sum(), s.size / (s.size - s.sum()))
    focal = (w * (s * (1 - p) ** gamma * beta * d - (1 - s) * p**gamma * np.log(1 - p))).mean()

    def q(h):
        if quantization == "square":
            return ((np.abs(h) - 1) ** 2).sum(1)
        return beta * 0.5 * k * (1 - cosine(np.abs(h), np.ones((1, k)))[:, 0])

    quant = lam * 0.5 * (q(hi).mean() + q(ht).mean())
    logged = m.fit_epoch(train, 0)
    assert logged["focal"] == pytest.approx(focal, rel=1e-4)
    assert logged["quantization"] == pytest.approx(quant, rel=1e-4) and quant > 0
    assert logged["loss"] == pytest.approx(focal + quant, rel=1e-4)


def train_n() -> TrainData:
    return tiny_problem()[1]


def test_cmhh_default_beta_scales_with_the_code_length():
    """β = 0 (default) means 1.6/K: the same loss as the explicit value, at every K."""
    for bits in (16, 64):
        auto, train = make("cmhh", bits=bits)
        fixed, _ = make("cmhh", bits=bits, beta=1.6 / bits)
        assert auto.beta == pytest.approx(1.6 / bits) and fixed.beta == pytest.approx(1.6 / bits)
        idx = torch.arange(16)
        auto.load_state_dict(fixed.state_dict())
        auto.inputs.fit(train)
        fixed.inputs.fit(train)
        want = float(fixed.batch_loss(train, idx, None)["loss"].detach())
        assert want != 0.0 and float(auto.batch_loss(train, idx, None)["loss"].detach()) == pytest.approx(
            want
        )
    with pytest.raises(ValueError, match="cmhh.beta"):
        make("cmhh", beta=-1.0)
