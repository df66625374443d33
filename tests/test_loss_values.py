"""Loss composition by value (issue 14 item 4): each method's training loss on a tiny problem against an
independent numpy computation of every term, its sign and its weight.

Non-default weights make every weight visible; the text side gets its own labels (per-modality noise)
so that a term fed the other modality's buffer or labels shows. Only public behaviour is used: the
networks' outputs (``continuous``/``embed``), the registered buffers and prototypes, the logged epoch
values (with one mini-batch per epoch, the logged loss is the loss of the parameters before the step),
``sample_losses``, ``selected_samples`` and ``corrected_labels``. ``.ci/mutations.py`` lists the
mutations these tests were checked against (docs/health.md).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods import ModalityShape, ProblemShape, TrainData

LOG_EPS = np.log(1e-7)  # the RC loss's floor (contrastive.robust_clustering_loss)


def tiny(
    n: int = 25, classes: int = 4, seed: int = 0, dataset: str = "tiny"
) -> tuple[ProblemShape, TrainData]:
    """Multi-hot labels, features that depend on them, and different (noisy) text labels."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, classes), dtype=np.float32)
    labels[np.arange(n), rng.integers(0, classes, n)] = 1
    labels[np.arange(n)[::3], rng.integers(0, classes, len(range(0, n, 3)))] = 1
    text_labels = labels.copy()
    moved = rng.choice(n, n // 3, replace=False)
    text_labels[moved] = np.roll(text_labels[moved], 1, axis=1)
    image = labels @ rng.normal(0, 1, (classes, 10)) + 0.5 * rng.normal(0, 1, (n, 10))
    text = labels @ rng.normal(0, 1, (classes, 7)) + 0.5 * rng.normal(0, 1, (n, 7))
    shape = ProblemShape(ModalityShape("features", 10), ModalityShape("bow", 7), classes, True, n, dataset)
    data = TrainData(
        torch.tensor(image, dtype=torch.float32),
        torch.tensor(text, dtype=torch.float32),
        torch.tensor(labels),
        text_labels=torch.tensor(text_labels),
    )
    return shape, data


def build(name: str, shape: ProblemShape, bits: int = 16, seed: int = 0, **hp):
    torch.manual_seed(seed)
    return methods.get(name)(shape, bits, seed=seed, **hp)


def outputs(model, data, fn: str = "continuous") -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad(), model.evaluating():
        f = getattr(model, fn)
        return (f("image", data.image).double().numpy(), f("text", data.text).double().numpy())


def labels(data) -> tuple[np.ndarray, np.ndarray]:
    return data.labels.double().numpy(), data.text_labels.double().numpy()


# ------------------------------------------------------------------ numpy references
def np_vote(y: np.ndarray, proxies: np.ndarray, tie: np.ndarray) -> np.ndarray:
    votes = y @ proxies
    return np.where(votes > 0, 1.0, np.where(votes < 0, -1.0, tie[None, :]))


def np_bce_bits(b: np.ndarray, o: np.ndarray) -> np.ndarray:
    """Per-bit BCE((1+b)/2, (1+o)/2), logs floored at −100 (torch's BCELoss)."""
    p, t = (1 + b) / 2, (1 + o) / 2
    with np.errstate(divide="ignore"):
        return -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100))


def np_symkl_bits(b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p, q = np.clip((1 + b) / 2, 1e-6, 1 - 1e-6), np.clip((1 + c) / 2, 1e-6, 1 - 1e-6)
    return (p - q) * np.log(p / q) + (q - p) * np.log((1 - p) / (1 - q))


def np_logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def np_infonce(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """−log softmax over the images i of u_i·v_j at i = j, per text j."""
    logits = u @ v.T
    return -(np.diag(logits) - np_logsumexp(logits, axis=0))


def np_normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def np_rc(z: np.ndarray, centres: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Per sample log Σ_{k∉y} p_k, p = softmax(zᵀC/τ) (MRL Eq. 5), floored at log 1e-7."""
    logits = np_normalise(z) @ centres / tau
    p = np.exp(logits - np_logsumexp(logits, axis=1)[:, None])
    return np.maximum(np.log((p * (y <= 0)).sum(1)), LOG_EPS)


def np_mc_anchors(zi: np.ndarray, zt: np.ndarray, tau: float, include_self: bool) -> np.ndarray:
    """−log P(a) for the 2N anchors: partner over all others (self excluded) or, with include_self,
    (self + partner) over all (MRL Eq. 6)."""
    z = np_normalise(np.concatenate([zi, zt]))
    n = len(zi)
    sim = z @ z.T / tau
    out = np.empty(2 * n)
    for a in range(2 * n):
        partner = (a + n) % (2 * n)
        others = [b for b in range(2 * n) if include_self or b != a]
        top = np.exp(sim[a, partner]) + (np.exp(sim[a, a]) if include_self else 0.0)
        out[a] = -np.log(top / np.exp(sim[a, others]).sum())
    return out


# ------------------------------------------------------------------ the proxy family
def proxy_targets(model, data) -> tuple[np.ndarray, np.ndarray]:
    proxies, tie = model.proxies.double().numpy(), model.tie.double().numpy()
    yi, yt = labels(data)
    return np_vote(yi, proxies, tie), np_vote(yt, proxies, tie)


def test_bce_loss_by_value():
    """bce: Σ_modalities β·mean_k BCE + α·Σ_k(|b|−1)², every sample trained on."""
    shape, data = tiny()
    model = build("bce", shape, alpha=0.3, beta=1.7, batch_size=25, input_norm="none")
    b, c = outputs(model, data)
    o_i, o_t = proxy_targets(model, data)
    expected = (
        1.7 * np_bce_bits(b, o_i).mean(1)
        + 0.3 * ((np.abs(b) - 1) ** 2).sum(1)
        + 1.7 * np_bce_bits(c, o_t).mean(1)
        + 0.3 * ((np.abs(c) - 1) ** 2).sum(1)
    )
    assert np.allclose(model.sample_losses(data), expected, rtol=1e-5, atol=1e-6)
    data.noise_rate = 0.6
    log = model.fit_epoch(data, 10)
    assert log["kept_fraction"] == 1.0 and log["loss"] == pytest.approx(expected.mean(), rel=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cmmq_joint_loss_and_selection_by_value(reduction):
    """cmmq: L_a = Σ_modalities [β·BCE + α·Σ(|b|−1)²] + λ·symKL (mean or sum over bits); the step
    averages L_a over the ⌈R(t)·n⌉ smallest, R(t) = 1 − min(t/T_k·ρ, ρ)."""
    shape, data = tiny(n=25)
    data.noise_rate = 0.5
    hp = dict(
        alpha=0.3, beta=1.7, mq_weight=0.45, kl_reduction=reduction, t_k=4.0, batch_size=25, input_norm="none"
    )
    model = build("cmmq", shape, **hp)
    b, c = outputs(model, data)
    o_i, o_t = proxy_targets(model, data)
    pc = 1.7 * (np_bce_bits(b, o_i).mean(1) + np_bce_bits(c, o_t).mean(1)) + 0.3 * (
        ((np.abs(b) - 1) ** 2).sum(1) + ((np.abs(c) - 1) ** 2).sum(1)
    )
    kl = np_symkl_bits(b, c)
    mq = kl.mean(1) if reduction == "mean" else kl.sum(1)
    joint = pc + 0.45 * mq
    assert np.allclose(model.sample_losses(data), joint, rtol=1e-5, atol=1e-6)
    log = model.fit_epoch(data, 3)  # R = 1 − min(3/4·0.5, 0.5) = 0.625: ⌈15.625⌉ = 16 kept
    keep = np.argsort(joint, kind="stable")[:16]
    assert log["keep_ratio"] == pytest.approx(0.625) and log["kept_fraction"] == pytest.approx(16 / 25)
    assert log["loss"] == pytest.approx(joint[keep].mean(), rel=1e-5)
    assert log["pc_loss"] == pytest.approx(pc.mean(), rel=1e-5)
    assert log["mq_loss"] == pytest.approx(mq.mean(), rel=1e-5)
    assert sorted(model.selected_samples().tolist()) == sorted(keep.tolist())


def test_cmmq_code_joint_loss_and_selection_by_value():
    """cmmq-code: mean over bits of BCE_img + BCE_txt + λ_q((|u|−1)² + (|v|−1)²) on tanh of the linear
    outputs, + w·InfoNCE (text → image, over the batch); forget linspace(0, ρ, g); ⌊R·n⌋ kept."""
    shape, data = tiny(n=25)
    data.noise_rate = 0.5
    model = build(
        "cmmq-code", shape, quant_weight=0.2, mq_weight=0.3, num_gradual=5, batch_size=25, input_norm="none"
    )
    lin_u, lin_v = outputs(model, data)  # the linear outputs (what the release binarises)
    u, v = np.tanh(lin_u), np.tanh(lin_v)
    o_i, o_t = proxy_targets(model, data)
    per_bit = np_bce_bits(u, o_i) + np_bce_bits(v, o_t) + 0.2 * ((np.abs(u) - 1) ** 2 + (np.abs(v) - 1) ** 2)
    joint = per_bit.mean(1) + 0.3 * np_infonce(u, v)
    assert np.allclose(model.sample_losses(data), joint, rtol=1e-5, atol=1e-6)
    log = model.fit_epoch(data, 2)  # forget linspace(0, 0.5, 5)[2] = 0.25: ⌊0.75·25⌋ = 18 kept
    keep = np.argsort(joint, kind="stable")[:18]
    assert log["keep_ratio"] == pytest.approx(0.75) and log["kept_fraction"] == pytest.approx(18 / 25)
    assert log["loss"] == pytest.approx(joint[keep].mean(), rel=1e-5)
    assert sorted(model.selected_samples().tolist()) == sorted(keep.tolist())
    assert [round(model.keep_ratio_at(e, 0.5), 6) for e in range(6)] == [1.0, 0.875, 0.75, 0.625, 0.5, 0.5]


# ------------------------------------------------------------------ dcmh
def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def test_dcmh_objective_and_batch_loss_by_value():
    """J = Σ_ij softplus(Θ_ij) − S_ijΘ_ij + γ(‖B−F‖² + ‖B−G‖²) + η(‖Fᵀ1‖² + ‖Gᵀ1‖²), Θ = ½FGᵀ,
    S from image vs text labels; a batch's loss is its rows' share of J over n·bs."""
    shape, data = tiny(n=20)
    model = build("dcmh", shape, gamma=0.7, eta=1.3, batch_size=5)
    log = model.fit_epoch(data, 0)
    f, g, b = (x.double().numpy() for x in (model.F, model.G, model.B))
    assert np.array_equal(b, np.sign(f + g))
    yi, yt = labels(data)
    s = (yi @ yt.T > 0).astype(float)
    th = 0.5 * f @ g.T
    nll = (softplus(th) - s * th).sum()
    quant = ((b - f) ** 2).sum() + ((b - g) ** 2).sum()
    bal = (f.sum(0) ** 2).sum() + (g.sum(0) ** 2).sum()
    n = 20
    assert log["objective_nll"] == pytest.approx(nll / n**2, rel=1e-5)
    assert log["objective"] == pytest.approx((nll + 0.7 * quant + 1.3 * bal) / n**2, rel=1e-5)
    # one mini-batch of each network against all n items through the other's buffer
    idx = torch.tensor([0, 3, 7, 11, 19])
    gen = torch.Generator().manual_seed(3)
    for modality, own, theirs, y_own, y_other in (("image", "F", "G", yi, yt), ("text", "G", "F", yt, yi)):
        u = torch.randn(5, 16, generator=gen, dtype=torch.float32)
        getattr(model, own)[idx] = u  # as training does: the batch rows of the own buffer are live
        buffer, other = (getattr(model, x).double().numpy() for x in (own, theirs))
        loss, _ = model.batch_terms(modality, u.clone().requires_grad_(), idx, data)
        loss = loss.detach()
        un = u.double().numpy()
        th = 0.5 * un @ other.T
        s = (y_own[idx.numpy()] @ y_other.T > 0).astype(float)
        want = (softplus(th) - s * th).sum() + 0.7 * ((b[idx.numpy()] - un) ** 2).sum()
        want += 1.3 * (buffer.sum(0) ** 2).sum()
        assert float(loss) == pytest.approx(want / (n * 5), rel=1e-5)


def test_dcmh_sample_losses_by_value():
    shape, data = tiny(n=20)
    model = build("dcmh", shape, batch_size=5)
    model.fit_epoch(data, 0)
    f, g = outputs(model, data)
    yi, yt = labels(data)
    th_i, th_t = 0.5 * f @ g.T, 0.5 * g @ f.T
    s_i, s_t = (yi @ yt.T > 0).astype(float), (yt @ yi.T > 0).astype(float)
    want = 0.5 * ((softplus(th_i) - s_i * th_i).mean(1) + (softplus(th_t) - s_t * th_t).mean(1))
    assert np.allclose(model.sample_losses(data), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ mrl
@pytest.mark.parametrize("self_similarity", ["excluded", "included"])
def test_mrl_training_loss_by_value(self_similarity):
    """β·(L_r^image + L_r^text) + (1 − β)·L_c, L_r per modality against its own labels at τ₁,
    L_c = Σ_modalities mean −log P at τ₂ (self term as switched)."""
    shape, data = tiny(n=12)
    hp = dict(beta=0.3, tau_rc=0.7, tau_mc=0.4, self_similarity=self_similarity, batch_size=12)
    model = build("mrl", shape, lr_schedule="constant", **hp)
    model.inputs.fit(data)  # the input scaling fit_epoch fits first (training statistics)
    zi, zt = outputs(model, data)
    centres = model.prototypes.normalised().detach().double().numpy()
    yi, yt = labels(data)
    rc_i, rc_t = np_rc(zi, centres, yi, 0.7), np_rc(zt, centres, yt, 0.7)
    anchors = np_mc_anchors(zi, zt, 0.4, self_similarity == "included")
    mc = 2 * anchors.mean()
    want = 0.3 * (rc_i.mean() + rc_t.mean()) + 0.7 * mc
    per_sample = 0.3 * (rc_i + rc_t) + 0.7 * (anchors[:12] + anchors[12:])
    assert np.allclose(model.sample_losses(data), per_sample, rtol=1e-5, atol=1e-6)
    log = model.fit_epoch(data, 0)
    assert log["loss"] == pytest.approx(want, rel=1e-5)
    assert log["rc"] == pytest.approx(rc_i.mean() + rc_t.mean(), rel=1e-5)
    assert log["mc"] == pytest.approx(mc, rel=1e-5)


# ------------------------------------------------------------------ uot-rcl (public behaviour only)
UOT = dict(batch_size=12, beta=0.3, tau=0.6, quant_weight=0.9, warmup_epochs=1, hidden=32)


def uot_reference(model, data, y_image, y_text, weight):
    """Class loss (weighted RC of both modalities), MC loss and quantization term by numpy."""
    hi, ht = outputs(model, data)  # tanh code heads h
    centres = model.prototypes.normalised().detach().double().numpy()
    tau = model.hp["tau"]
    cls = sum(
        (weight * np_rc(h, centres, y, tau)).sum() / weight.sum() for h, y in ((hi, y_image), (ht, y_text))
    )
    mc = 2 * np_mc_anchors(hi, ht, tau, include_self=False).mean()
    quant = 0.5 * (((np.abs(hi) - 1) ** 2).mean() + ((np.abs(ht) - 1) ** 2).mean())
    return cls, mc, quant


def test_uot_rcl_warmup_loss_by_value():
    """Warm-up: β·L_cls(noisy labels) + (1 − β)·L_MC + q·½(mean(|h^I|−1)² + mean(|h^T|−1)²)."""
    shape, data = tiny(n=12)
    model = build("uot-rcl", shape, **UOT)
    model.inputs.fit(data)  # the input scaling fit_epoch fits first (training statistics)
    yi, yt = labels(data)
    cls, mc, quant = uot_reference(model, data, yi, yt, np.ones(12))
    log = model.fit_epoch(data, 0)
    assert log["loss_class"] == pytest.approx(cls, rel=1e-5)
    assert log["loss_mc"] == pytest.approx(mc, rel=1e-5) and log["loss_align"] == pytest.approx(mc, rel=1e-5)
    assert log["loss_quant"] == pytest.approx(quant, rel=1e-5)
    assert log["loss"] == pytest.approx(0.3 * cls + 0.7 * mc + 0.9 * quant, rel=1e-5)


def test_uot_rcl_corrected_loss_by_value():
    """After warm-up: β·L_cls(corrected labels; untransported samples weighted) + (1 − β)·(w_mc·L_MC +
    w_rel·L_rel) + q·quantization; L_rel (an OT-plan contrastive loss, tested in test_transport.py)
    enters with its logged value."""
    shape, data = tiny(n=12)
    hp = dict(UOT, unselected_weight=0.4, mc_weight=0.7, relation_weight=0.5, mass_start=0.5, mass_end=0.5)
    model = build("uot-rcl", shape, **hp)
    model.fit_epoch(data, 0)
    before = [p.detach().clone() for p in model.parameters()]
    probe = build("uot-rcl", shape, **hp)  # a copy of the parameters the epoch starts from
    probe.load_state_dict(model.state_dict())
    log = model.fit_epoch(data, 1)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    selected = np.asarray(model.selected_samples(), dtype=bool)
    assert 0 < selected.sum() < 12
    weight = np.where(selected, 1.0, 0.4)
    y_image = model.corrected_labels().astype(float)
    y_text = model.corrected_text_labels().astype(float)
    cls, mc, quant = uot_reference(probe, data, y_image, y_text, weight)
    assert log["loss_class"] == pytest.approx(cls, rel=1e-5)
    assert log["loss_mc"] == pytest.approx(mc, rel=1e-5)
    assert log["loss_relation"] > 0
    align = 0.7 * mc + 0.5 * log["loss_relation"]
    assert log["loss_align"] == pytest.approx(align, rel=1e-5)
    assert log["loss"] == pytest.approx(0.3 * cls + 0.7 * align + 0.9 * quant, rel=1e-5)


# ------------------------------------------------------------------ cca / pls
def inv_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return v @ np.diag(w**-0.5) @ v.T


@pytest.mark.parametrize("name", ["cca", "pls"])
def test_linear_projections_by_value(name):
    """cca / pls: outputs are ((x − mean)/std) @ rotation (training mean, ddof-1 std); the first pair of
    directions maximises, by a numpy SVD, the correlation (cca: the top singular value of
    Σxx^−½ Σxy Σyy^−½) or the covariance (pls: the top singular vectors of XᵀY) of the two views."""
    shape, data = tiny(n=60)
    model = build(name, shape, bits=3, max_iter=2000, tol=1e-12)
    model.fit_epoch(data, 0)
    x, y = data.image.double().numpy(), data.text.double().numpy()
    xs, ys = ((v - v.mean(0)) / v.std(0, ddof=1) for v in (x, y))
    fi, ft = outputs(model, data)
    ri, rt = model.rotation_image.double().numpy(), model.rotation_text.double().numpy()
    assert np.allclose(fi, xs @ ri, rtol=1e-4, atol=1e-5) and np.allclose(ft, ys @ rt, rtol=1e-4, atol=1e-5)
    pi, pt = fi[:, 0], ft[:, 0]
    if name == "cca":
        sxx, syy, sxy = xs.T @ xs, ys.T @ ys, xs.T @ ys
        top = np.linalg.svd(inv_sqrt(sxx) @ sxy @ inv_sqrt(syy), compute_uv=False)[0]
        assert np.corrcoef(pi, pt)[0, 1] == pytest.approx(top, rel=1e-4)
    else:
        u, _, vt = np.linalg.svd(xs.T @ ys)
        cos_i = ri[:, 0] @ u[:, 0] / np.linalg.norm(ri[:, 0])
        cos_t = rt[:, 0] @ vt[0] / np.linalg.norm(rt[:, 0])
        assert abs(cos_i) == pytest.approx(1, abs=1e-5) and abs(cos_t) == pytest.approx(1, abs=1e-5)
        assert np.cov(pi, pt)[0, 1] > 0
