"""SSAH: loss pieces against hand-written formulas, the adversarial switch, training on tiny data."""

from __future__ import annotations

import math

import pytest
import torch

from xbench.methods import ModalityShape, ProblemShape, TrainData, get
from xbench.methods.adversarial import Discriminator, discriminator_loss, generator_loss
from xbench.methods.pairwise import half_sq, pairwise_loss, similarity_matrix
from xbench.methods.semantic_networks import LocalResponseNorm1d

D = torch.float64


def T(values) -> torch.Tensor:
    return torch.tensor(values, dtype=D)


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# ---------------------------------------------------------------------------------- losses
def test_similarity_matrix_all_by_batch():
    labels_all = T([[1, 0, 0], [0, 1, 1], [1, 1, 0]])
    s = similarity_matrix(labels_all, labels_all[[1, 0]], 0.999)
    expected = [[0.0, 0.999], [0.999, 0.0], [0.999, 0.999]]
    assert s.flatten().tolist() == pytest.approx([v for row in expected for v in row])


@pytest.mark.parametrize("form", ["nll", "squared"])
def test_pairwise_loss_matches_hand_computation(form):
    anchors = T([[0.5, -1.0], [2.0, 0.3], [-0.7, 0.8]])  # n × d buffer
    outputs = T([[1.0, 0.5], [-0.2, -1.5]])  # b × d batch
    s = T([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    total = 0.0
    for i in range(3):
        for j in range(2):
            theta = 0.5 * sum(a * o for a, o in zip(anchors[i].tolist(), outputs[j].tolist(), strict=False))
            nll_part = float(s[i, j]) * theta - _softplus(theta)
            total += -nll_part if form == "nll" else 0.5 * nll_part**2
    assert float(pairwise_loss(anchors, outputs, s, form)) == pytest.approx(total, rel=1e-12)


def test_pairwise_loss_rejects_unknown_form():
    with pytest.raises(ValueError, match="pairwise form"):
        pairwise_loss(T([[1.0]]), T([[1.0]]), T([[1.0]]), "hinge")


def test_half_sq_is_half_sum_of_squares():
    assert float(half_sq(T([1.0, -1.0, 1.0]), T([0.5, -0.2, 2.0]))) == pytest.approx(
        0.5 * (0.25 + 0.64 + 1.0)
    )


def test_local_response_norm_matches_tensorflow_formula():
    x = T([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    got = LocalResponseNorm1d()(x)[0].tolist()
    values = x[0].tolist()
    expected = []
    for c, a in enumerate(values):
        window = values[max(0, c - 2) : c + 3]
        expected.append(a / (2.0 + 1e-4 * sum(v * v for v in window)) ** 0.75)
    assert got == pytest.approx(expected, rel=1e-6)


def test_local_response_norm_is_bit_identical_to_torch_forward_and_backward():
    """The shifted-slice window sum keeps nn.LocalResponseNorm's arithmetic order exactly."""
    g = torch.Generator().manual_seed(0)
    ours = LocalResponseNorm1d()
    reference = torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    for shape in ((7, 13), (64, 512)):
        x = (torch.randn(*shape, generator=g) * 3).requires_grad_()
        x_ref = x.detach().clone().requires_grad_()
        upstream = torch.randn(*shape, generator=g)
        y, y_ref = ours(x), reference(x_ref.unsqueeze(-1)).squeeze(-1)
        assert torch.equal(y, y_ref)
        y.backward(upstream)
        y_ref.backward(upstream)
        assert torch.equal(x.grad, x_ref.grad)


def _bce_logit(x: float, y: float) -> float:
    p = 1.0 / (1.0 + math.exp(-x))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


@pytest.mark.parametrize("form", ["bce", "squared"])
def test_discriminator_and_generator_losses(form):
    torch.manual_seed(0)
    d_i, d_t = (
        Discriminator(4, hidden=(3, 2), init_std=0.5).double(),
        Discriminator(4, hidden=(3, 2), init_std=0.5).double(),
    )
    f_l, f_i, f_t = torch.randn(2, 4, dtype=D), torch.randn(3, 4, dtype=D), torch.randn(2, 4, dtype=D)
    loss_fn = _bce_logit if form == "bce" else (lambda x, y: (x - y) ** 2)

    def mean(d, f, y):
        out = d(f).detach().tolist()
        return sum(loss_fn(v, y) for v in out) / len(out)

    expected = (mean(d_i, f_i, 0) + mean(d_t, f_t, 0) + mean(d_i, f_l, 1) + mean(d_t, f_l, 1)) / 4
    assert float(discriminator_loss(d_i, d_t, f_l, f_i, f_t, form).detach()) == pytest.approx(
        expected, rel=1e-10
    )
    assert float(generator_loss(d_i, f_i, form).detach()) == pytest.approx(mean(d_i, f_i, 1), rel=1e-10)


# ---------------------------------------------------------------------------------- training
def tiny_problem(n: int = 48, classes: int = 4, seed: int = 0) -> tuple[ProblemShape, TrainData]:
    """Single-label items whose image and text features both carry the class."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    labels = torch.nn.functional.one_hot(y, classes).float()
    image = labels @ torch.randn(classes, 16, generator=g) * 2 + 0.5 * torch.randn(n, 16, generator=g)
    text = (labels @ torch.rand(classes, 20, generator=g) * 3 + torch.rand(n, 20, generator=g)).round()
    shape = ProblemShape(
        ModalityShape("features", 16), ModalityShape("bow", 20), classes, multi_label=False, num_train=n
    )
    return shape, TrainData(image, text, labels)


SMALL = {"label_hidden": 32, "embed_dim": 16, "batch_size": 16}


def make(bits: int = 8, seed: int = 0, **hp):
    shape, data = tiny_problem()
    torch.manual_seed(seed)
    return get("ssah")(shape, bits, seed=seed, **{**SMALL, **hp}), data


@pytest.mark.parametrize("adversarial", ["paper", "code", "none"])
def test_trains_with_decreasing_loss_and_emits_codes(adversarial):
    method, data = make(bits=12, adversarial=adversarial)
    logs = [method.fit_epoch(data, e) for e in range(4)]
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert logs[-1]["loss_label"] < logs[0]["loss_label"]
    for modality in ("image", "text"):
        codes = method.encode_all(modality, getattr(data, modality))
        assert codes.shape == (len(data), 12) and codes.dtype == torch.int8
        assert set(codes.unique().tolist()) <= {-1, 1}
    assert (logs[0]["loss_dis"] > 0) == (adversarial != "none")


def test_buffers_built_lazily_from_the_networks():
    method, data = make()
    assert method.feat_label.shape[0] == 0
    method.build_buffers(data)
    with torch.no_grad():
        out = method.label_net(data.labels)
    assert torch.allclose(method.feat_label, out.feature) and torch.allclose(method.code_label, out.hash)
    method2, _ = make()
    method2.fit_epoch(data, 0)
    assert method2.feat_label.shape == (len(data), 16) and method2.code_image.shape == (len(data), 8)


def test_shared_quantization_target_is_sign_of_sum():
    method, data = make(quant_target="shared")
    method.fit_epoch(data, 0)
    assert torch.equal(method.B, torch.sign(method.code_label + method.code_image + method.code_text))


def _adversarial_gradients(adversarial: str):
    # only the adversarial term: all other weights 0
    method, data = make(adversarial=adversarial, alpha=0.0, gamma=0.0, beta=0.0, eta=0.0)
    method.build_buffers(data)
    idx = torch.arange(8)
    out = method.image_net(data.image[idx])
    loss, adv = method._modality_loss("image", data, idx, out)
    method.zero_grad(set_to_none=True)
    loss.backward()
    trunk = [p.grad for p in method.image_net.trunk.parameters()]
    disc = [p.grad for p in method.d_image.parameters()]
    return trunk, disc, float(adv.detach()), method


def test_paper_adversarial_reaches_feature_extractor_with_discriminator_frozen():
    trunk, disc, adv, method = _adversarial_gradients("paper")
    assert adv > 0
    assert all(g is not None for g in trunk) and sum(float(g.abs().sum()) for g in trunk) > 0
    assert all(g is None for g in disc)
    assert all(p.requires_grad for p in method.d_image.parameters())  # unfrozen again


def test_code_adversarial_never_reaches_feature_extractor_and_moves_discriminator():
    trunk, disc, adv, method = _adversarial_gradients("code")
    assert adv > 0
    assert all(g is None or float(g.abs().sum()) == 0.0 for g in trunk)  # the zero-weighted terms give zeros
    assert all(g is not None for g in disc) and sum(float(g.abs().sum()) for g in disc) > 0
    image_params = {id(p) for group in method.optimizers["image"].param_groups for p in group["params"]}
    assert all(id(p) in image_params for p in method.d_image.parameters())  # the image step updates D_IL


def test_learning_rate_decays_per_epoch():
    method, data = make(lr_decay=0.5)
    method.fit_epoch(data, 2)
    assert method.optimizers["image"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.25)
    assert method.optimizers["label"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.25)
    assert method.optimizers["text"].param_groups[0]["lr"] == pytest.approx(10**-3.5 * 0.25)


def test_deterministic_given_seed():
    codes = []
    for _ in range(2):
        method, data = make(seed=3)
        method.fit_epoch(data, 0)
        codes.append(method.encode_all("text", data.text))
    assert torch.equal(codes[0], codes[1])


def test_unknown_choice_is_rejected():
    with pytest.raises(ValueError, match="adversarial"):
        make(adversarial="always")


def test_init_std_scales_own_layers_and_zero_means_default():
    small, _ = make()
    assert float(small.label_net.heads.hash.weight.detach().std()) == pytest.approx(0.01, rel=0.2)
    assert float(small.d_image.mlp.net[0].bias.detach().abs().max()) < 0.06  # biases drawn too
    default, _ = make(init_std=0)
    assert float(default.label_net.heads.hash.weight.detach().abs().max()) > 0.1  # PyTorch's U(±1/√16)


def test_own_quantization_target_is_sign_of_batch_output():
    method, data = make()
    method.build_buffers(data)
    h = torch.tensor([[0.3, -0.2], [-0.9, 0.1]])
    assert torch.equal(method._quant_target(h, torch.arange(2)), torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))


# ------------------------------------------------------------------ the whole objective, by value
def _np(t: torch.Tensor):
    return t.detach().double().numpy()


def _hand_pairwise(anchors, outputs, s, form):
    import numpy as np

    theta = 0.5 * anchors @ outputs.T
    sp = np.log1p(np.exp(theta))
    return (sp - s * theta).sum() if form == "nll" else 0.5 * ((s * theta - sp) ** 2).sum()


def _hand_objective(method, labels_all, labels_b, out, own_feat, own_code, form, value, adv_logits=None):
    """α·J(F^l, F) + γ·J(H^l, H) + β·½‖sign(H) − H‖² + η·½‖L − L̂‖² (+ δ·BCE(D(F), 1)), in numpy."""
    import numpy as np

    hp = method.hp
    s = value * ((labels_all @ labels_b.T) > 0)
    h = _np(out.hash)
    total = (
        hp["alpha"] * _hand_pairwise(own_feat, _np(out.feature), s, form)
        + hp["gamma"] * _hand_pairwise(own_code, h, s, form)
        + hp["beta"] * 0.5 * ((np.sign(h) - h) ** 2).sum()
        + hp["eta"] * 0.5 * ((labels_b - _np(out.label)) ** 2).sum()
    )
    if adv_logits is not None:  # BCE against "real" (1): mean log(1 + e^{−z})
        total += hp["delta"] * np.log1p(np.exp(-adv_logits)).mean()
    return total


@pytest.mark.parametrize("form", ["nll", "squared"])
def test_modality_objective_by_value(form):
    """ImgNet/TxtNet batch objective: every term, its sign and weight, and which buffers it uses."""
    import numpy as np

    method, data = make(
        bits=6,
        alpha=0.3,
        gamma=0.7,
        beta=1.3,
        eta=0.9,
        delta=0.5,
        similarity=0.8,
        pairwise=form,
        adversarial="paper",
    )
    method.build_buffers(data)
    g = torch.Generator().manual_seed(5)
    method.feat_label = torch.rand(method.feat_label.shape, generator=g)  # LabNet's buffers, made distinct
    method.code_label = torch.tanh(torch.randn(method.code_label.shape, generator=g))
    method.code_image = torch.tanh(torch.randn(method.code_image.shape, generator=g))
    method.code_text = torch.tanh(torch.randn(method.code_text.shape, generator=g))
    idx = torch.arange(3, 13)
    labels_all, labels_b = _np(data.labels), _np(data.labels[idx])
    for modality in ("image", "text"):
        out = method.net(modality)(getattr(data, modality)[idx])
        loss, adv = method._modality_loss(modality, data, idx, out)
        logits = _np(getattr(method, f"d_{modality}")(out.feature))
        want = _hand_objective(
            method,
            labels_all,
            labels_b,
            out,
            _np(method.feat_label),
            _np(method.code_label),
            form,
            0.8,
            logits,
        )
        assert float(adv.detach()) == pytest.approx(np.log1p(np.exp(-logits)).mean(), rel=1e-5)
        assert float(loss.detach()) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("form", ["nll", "squared"])
def test_label_objective_by_value(form):
    """LabNet's batch objective (no adversarial term), computed before its step."""
    method, data = make(bits=6, alpha=0.3, gamma=0.7, beta=1.3, eta=0.9, similarity=0.8, pairwise=form)
    method.build_buffers(data)
    idx = torch.arange(2, 9)
    with torch.no_grad():
        out = method.label_net(data.labels[idx])
    feat, code = method.feat_label.clone(), method.code_label.clone()
    feat[idx], code[idx] = out.feature, out.hash  # the step writes the batch into the buffers first
    want = _hand_objective(
        method, _np(data.labels), _np(data.labels[idx]), out, _np(feat), _np(code), form, 0.8
    )
    loss, _ = method._label_step(data, idx)
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
