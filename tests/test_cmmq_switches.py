"""``cmmq-code``'s release differences are switches: each changes what it should and nothing else,
and with every switch at the paper's value ``cmmq-code`` trains exactly as ``cmmq``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods import Hasher, ModalityShape, ProblemShape, TrainData

BITS = 32
# cmmq-code's switches set to the paper's (cmmq's) values; quant_weight = α·K (mean over bits vs α·Σ_k)
PAPER = {
    "mq_kind": "symkl",
    "mq_weight": 0.7,
    "keep_schedule": "paper",
    "num_gradual": 10,
    "keep_rounding": "ceil",
    "quant_weight": 1e-4 * BITS,
    "text_net": "mlp3",
    "head_init": "pytorch",
    "proxy_assign": "vote",
    "proxy_tries": 100,
    "proxy_keep": "best",
}


def tiny(n: int = 100, classes: int = 4, seed: int = 0, dataset: str = "ms-coco", noise_rate: float = 0.5):
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, classes), dtype=np.float32)
    labels[np.arange(n), rng.integers(0, classes, n)] = 1
    labels[np.arange(n), rng.integers(0, classes, n)] = 1
    image = labels @ rng.normal(0, 1, (classes, 16)) + 0.3 * rng.normal(0, 1, (n, 16))
    text = labels @ rng.normal(0, 1, (classes, 12)) + 0.3 * rng.normal(0, 1, (n, 12))
    shape = ProblemShape(ModalityShape("features", 16), ModalityShape("bow", 12), classes, True, n, dataset)
    data = TrainData(
        torch.tensor(image, dtype=torch.float32),
        torch.tensor(text, dtype=torch.float32),
        torch.tensor(labels),
        noise_rate=noise_rate,
    )
    return shape, data


def build(name: str, shape: ProblemShape, bits: int = BITS, seed: int = 0, **hp):
    torch.manual_seed(seed)
    return methods.get(name)(shape, bits, seed=seed, **hp)


EPOCHS = (0, 4, 7, 12)  # ramp and plateau of both schedules; R·n is fractional in most batches


def train(model, data):
    return [model.fit_epoch(data, epoch) for epoch in EPOCHS]


def test_defaults_are_the_release_values():
    hp = methods.get("cmmq-code").defaults()
    assert (hp["mq_kind"], hp["keep_schedule"], hp["keep_rounding"], hp["head_init"]) == (
        "infonce",
        "linspace",
        "floor",
        "release",
    )
    assert (hp["proxy_tries"], hp["proxy_keep"], hp["num_gradual"], hp["mq_weight"]) == (20, "last", 20, 0.0)
    paper = methods.get("cmmq").defaults()
    assert (paper["keep_rounding"], paper["proxy_tries"], paper["proxy_keep"]) == ("ceil", 100, "best")


def test_code_with_every_switch_at_the_paper_value_trains_as_cmmq():
    shape, data = tiny()
    paper, code = build("cmmq", shape, batch_size=32), build("cmmq-code", shape, batch_size=32, **PAPER)
    assert torch.equal(paper.proxies, code.proxies) and torch.equal(paper.tie, code.tie)
    for a, b in zip(paper.parameters(), code.parameters(), strict=True):
        assert torch.equal(a, b)
    logs_paper, logs_code = train(paper, data), train(code, data)
    for lp, lc in zip(logs_paper, logs_code, strict=True):
        assert lc["keep_ratio"] == lp["keep_ratio"] and lc["kept_fraction"] == lp["kept_fraction"]
        assert lc["loss"] == pytest.approx(lp["loss"], rel=1e-5)
    for a, b in zip(paper.parameters(), code.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    assert np.allclose(paper.sample_losses(data), code.sample_losses(data), atol=1e-6)


@pytest.mark.parametrize("key", sorted(set(PAPER) - {"proxy_tries", "proxy_keep"}))
def test_each_switch_back_to_the_release_value_changes_training(key):
    """Leaving any one switch at the release's value makes cmmq-code train differently from cmmq."""
    shape, data = tiny()
    release = methods.get("cmmq-code").defaults()[key]
    paper = build("cmmq", shape, batch_size=32)
    code = build("cmmq-code", shape, batch_size=32, **{**PAPER, key: release})
    train(paper, data), train(code, data)
    assert not all(
        torch.allclose(a, b, atol=1e-6) for a, b in zip(paper.parameters(), code.parameters(), strict=True)
    )


# ---------------------------------------------------------------- each switch alone
def same_but(key: str, value, shape=None, **common):
    shape = shape or tiny()[0]
    return build("cmmq-code", shape, **common), build("cmmq-code", shape, **{**common, key: value})


def params_equal(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def test_keep_rounding_changes_only_the_kept_count():
    shape, data = tiny(n=100)
    floor, ceil = same_but("keep_rounding", "ceil", shape, batch_size=32)
    assert params_equal(floor, ceil) and torch.equal(floor.proxies, ceil.proxies)
    assert np.array_equal(floor.sample_losses(data), ceil.sample_losses(data))
    for epoch in range(30):
        assert floor.keep_ratio_at(epoch, 0.5) == ceil.keep_ratio_at(epoch, 0.5)
    # epoch 5: R = 1 − 0.5·5/19; batches 32, 32, 32, 4 → ⌊·⌋ = 27·3 + 3 = 84, ⌈·⌉ = 28·3 + 4 = 88
    r = 1 - 0.5 * 5 / 19
    assert [math.floor(r * 32), math.floor(r * 4), math.ceil(r * 32), math.ceil(r * 4)] == [27, 3, 28, 4]
    assert floor.fit_epoch(data, 5)["kept_fraction"] == pytest.approx(0.84)
    assert ceil.fit_epoch(data, 5)["kept_fraction"] == pytest.approx(0.88)


@pytest.mark.parametrize("classes,bits", [(5, 2), (40, 16)])
def test_proxy_draws_change_only_the_random_rows(classes, bits):
    """C > 2K and CSQ's criteria never met: the release makes 20 draws and keeps the last, the paper
    reading (cmmq) 100 and keeps the best; [H_K; −H_K] and the networks are untouched."""
    shape = ProblemShape(ModalityShape("features", 4), ModalityShape("bow", 3), classes, True, 8, "x")
    with pytest.warns(RuntimeWarning, match="last draw"):
        release = build("cmmq-code", shape, bits)
    with pytest.warns(RuntimeWarning, match="best draw"):
        paper = build("cmmq-code", shape, bits, proxy_tries=100, proxy_keep="best")
    with pytest.warns(RuntimeWarning, match="best draw"):
        cmmq = build("cmmq", shape, bits)
    assert params_equal(release, paper) and torch.equal(paper.proxies, cmmq.proxies)
    head = 2 * bits  # [H_K; −H_K] is fixed; only the rows beyond 2K are drawn
    assert torch.equal(release.proxies[:head], paper.proxies[:head])
    assert (release.proxy_info.tries, paper.proxy_info.tries) == (20, 100)
    assert paper.proxy_info.min_distance >= release.proxy_info.min_distance
    if classes == 40:
        assert not torch.equal(release.proxies, paper.proxies)


def test_proxy_draws_do_nothing_when_c_le_2k():
    release, paper = same_but("proxy_tries", 100, batch_size=32)
    assert torch.equal(release.proxies, paper.proxies) and params_equal(release, paper)
    assert release.proxy_info.tries == paper.proxy_info.tries == 0


def test_keep_best_vs_last_draw():
    """Same draws (20, none meets the criteria): ``last`` keeps the 20th, ``best`` the one with the
    largest minimum distance — different proxies, nothing else changed."""
    shape = ProblemShape(ModalityShape("features", 4), ModalityShape("bow", 3), 40, True, 8, "x")
    with pytest.warns(RuntimeWarning, match="last draw"):
        last = build("cmmq-code", shape, 16)
    with pytest.warns(RuntimeWarning, match="best draw"):
        best = build("cmmq-code", shape, 16, proxy_keep="best")
    assert last.proxy_info.tries == best.proxy_info.tries == 20
    assert best.proxy_info.min_distance > last.proxy_info.min_distance
    assert torch.equal(last.proxies[:32], best.proxies[:32]) and not torch.equal(last.proxies, best.proxies)
    assert params_equal(last, best)


@pytest.mark.parametrize("text_net", ["linear2", "mlp3"])
def test_head_init_changes_only_the_initial_weights(text_net):
    shape, data = tiny()
    release, pytorch = same_but("head_init", "pytorch", shape, text_net=text_net)
    assert torch.equal(release.proxies, pytorch.proxies)
    head = release.image_net.head
    assert head.weight.std().item() == pytest.approx(0.01, rel=0.1) and not head.bias.any()
    bound = 1 / math.sqrt(16)  # PyTorch's Linear init: U(±1/√fan_in)
    assert pytorch.image_net.head.weight.abs().max() <= bound and pytorch.image_net.head.bias.any()
    linears = [m for m in release.text_net.modules() if isinstance(m, torch.nn.Linear)]
    assert [round(m.weight.std().item(), 2) for m in linears] == pytest.approx([0.01, 0.5, 0.5], abs=0.03)
    assert not any(m.bias.any() for m in linears)
    for m in (m for m in pytorch.text_net.modules() if isinstance(m, torch.nn.Linear)):
        assert m.weight.abs().max() <= 1 / math.sqrt(m.in_features) and m.bias.any()
    # same architecture: copying the weights makes the two methods identical
    pytorch.load_state_dict(release.state_dict())
    assert np.array_equal(release.sample_losses(data), pytorch.sample_losses(data))
    assert pytorch.hp == {**release.hp, "head_init": "pytorch"}


def test_head_init_pytorch_matches_cmmq_networks():
    shape, _ = tiny()
    code = build("cmmq-code", shape, text_net="mlp3", head_init="pytorch")
    paper = build("cmmq", shape)
    assert params_equal(code, paper)


@pytest.mark.parametrize("rho", [0.2, 0.6])
def test_keep_schedule_by_hand(rho):
    shape, data = tiny()
    linspace, paper = same_but("keep_schedule", "paper", shape, num_gradual=10)
    for e in range(25):
        assert linspace.keep_ratio_at(e, rho) == pytest.approx(1 - rho * min(e / 9, 1.0))
        assert paper.keep_ratio_at(e, rho) == pytest.approx(1 - rho * min(e / 10, 1.0))
    assert params_equal(linspace, paper)
    assert np.array_equal(linspace.sample_losses(data), paper.sample_losses(data))
    never = build("cmmq-code", shape, keep_schedule="paper", num_gradual=0)
    assert never.keep_ratio_at(0, rho) == pytest.approx(1 - rho)


def test_mq_kind_changes_only_the_mutual_term():
    shape, _ = tiny()
    infonce, symkl = same_but("mq_kind", "symkl", shape, mq_weight=0.5)
    gen = torch.Generator().manual_seed(1)
    u, v = torch.rand(6, BITS, generator=gen) * 2 - 1, torch.rand(6, BITS, generator=gen) * 2 - 1
    o = torch.where(torch.rand(6, BITS, generator=gen) < 0.5, -1.0, 1.0)
    a, b = infonce.losses(u, v, o, o), symkl.losses(u, v, o, o)
    assert torch.equal(a["pc"], b["pc"])
    # independent numpy: per-bit Bernoulli KL both ways, both outcomes, mean over bits
    p = np.clip((u.double().numpy() + 1) / 2, 1e-6, 1 - 1e-6)
    q = np.clip((v.double().numpy() + 1) / 2, 1e-6, 1 - 1e-6)
    kl = (p - q) * np.log(p / q) + (q - p) * np.log((1 - p) / (1 - q))
    assert np.allclose(b["mq"].double().numpy(), kl.mean(1), atol=1e-5)
    assert np.allclose(b["joint"].numpy(), b["pc"].numpy() + 0.5 * kl.mean(1), atol=1e-5)
    logits = u.double().numpy() @ v.double().numpy().T  # [i, j] = u_i · v_j; softmax over images i
    info = -(np.diag(logits) - np.log(np.exp(logits).sum(0)))
    assert np.allclose(a["mq"].double().numpy(), info, atol=1e-5)
    assert params_equal(infonce, symkl)


def test_code_sample_losses_equal_the_training_losses():
    """With mq_weight > 0 (an in-batch term), the recorded per-sample losses are those training computes
    on the same batches of ``batch_size`` (here the default 128: 300 = 128 + 128 + 44)."""
    shape, data = tiny(n=300, noise_rate=0.0)
    model = build("cmmq-code", shape, mq_weight=1.0, lr=0.0, weight_decay=0.0, input_norm="none")
    assert model.hp["batch_size"] == 128
    recorded = model.sample_losses(data)
    seen: list[torch.Tensor] = []
    losses = model.losses
    model.losses = lambda *a: _spy(losses(*a), seen)
    model.batches = lambda n, size, shuffle=True, drop_last=False: Hasher.batches(model, n, size, False)
    model.fit_epoch(data, 0)  # lr 0: the parameters stay; the training batches are 0–127, 128–255, 256–299
    assert [len(s) for s in seen] == [128, 128, 44]
    assert np.allclose(recorded, torch.cat(seen).numpy(), atol=1e-6)
    pc = model.losses(*_outputs(model, data))["pc"].numpy()
    assert not np.allclose(recorded - pc, (recorded - pc).mean(), atol=1e-3)  # the MQ part is there


def _spy(terms, seen):
    seen.append(terms["joint"].detach().clone())
    return terms


def _outputs(model, data):
    with torch.no_grad():
        o_i, o_t = model.sample_loss_context(data)
        return (model.outputs("image", data.image, False), model.outputs("text", data.text, False), o_i, o_t)
