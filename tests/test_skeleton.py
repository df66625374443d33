"""The training skeleton of methods/base.py: schedules, per-term logging, eval mode, epoch budget."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods import Hasher, Hyper, ModalityShape, ProblemShape, TrainData
from xbench.methods.epoch_log import EpochLog
from xbench.methods.schedules import Schedule, learning_rate
from xbench.running.config import RunConfig

SHAPE = ProblemShape(ModalityShape("features", 6), ModalityShape("bow", 5), 3, True, 20, "tiny")


def tiny_data(n: int = 20, seed: int = 0) -> TrainData:
    g = torch.Generator().manual_seed(seed)
    labels = torch.zeros(n, 3)
    labels[torch.arange(n), torch.randint(0, 3, (n,), generator=g)] = 1
    return TrainData(torch.randn(n, 6, generator=g), (torch.rand(n, 5, generator=g) > 0.5).float(), labels)


class Recorder(Hasher):
    """A minimal method on the skeleton: two optimisers, a declared schedule, known loss terms."""

    name = "recorder"
    default_epochs = 7
    hyperparameters = {
        "batch_size": Hyper(8, "test", "mini-batch size"),
        "kind": Hyper("step", "test", "schedule kind"),
        "schedule_epochs": Hyper(0, "test", "schedule length (0 = the run's budget)"),
    }

    def __init__(self, shape, bits, **kw):
        super().__init__(shape, bits, **kw)
        self.image_net = torch.nn.Linear(6, bits)
        self.text_net = torch.nn.Linear(5, bits)
        self.modes: list[bool] = []

    def make_optimizers(self):
        return {
            "image": torch.optim.SGD(self.image_net.parameters(), lr=0.1),
            "text": torch.optim.SGD(self.text_net.parameters(), lr=0.4),
        }

    def lr_schedule(self):
        return Schedule(
            self.hp["kind"], decay=0.5, step=2, end_factor=0.01, epochs=self.hp["schedule_epochs"]
        )

    def batch_loss(self, data, idx, context):
        self.modes.append(self.training)
        a = self.image_net(data.image[idx]).pow(2).mean()
        b = self.text_net(data.text[idx]).pow(2).mean()
        return {"loss": a + b, "size": float(len(idx)), "per_item": (float(len(idx)), len(idx)), "a": a}


# ------------------------------------------------------------------------------------ schedules
@pytest.mark.parametrize(
    "kind, epoch, total, expected",
    [
        ("constant", 5, 10, 0.2),
        ("step", 5, 10, 0.2 * 0.5**2),  # ⌊5/2⌋ = 2 decays
        ("exponential", 3, 10, 0.2 * 0.5**3),
        ("cosine", 5, 10, 0.1),  # half-way: half the rate
        ("cosine", 12, 10, 0.0),  # past the end: eta_min = 0
        ("log", 9, 10, 0.2 * 0.01),  # the last epoch reaches base·end_factor
        ("log", 3, 7, 0.2 * 0.01**0.5),
        ("linear", 3, 7, 0.2 + (0.002 - 0.2) * 0.5),
        ("linear", 99, 7, 0.002),
    ],
)
def test_learning_rate_kinds(kind, epoch, total, expected):
    schedule = Schedule(kind, end_factor=0.01, decay=0.5, step=2)
    assert learning_rate(schedule, 0.2, epoch, total) == pytest.approx(expected, abs=1e-15)


def test_unknown_schedule_kind_is_refused():
    with pytest.raises(ValueError, match="schedule 'warm'"):
        Schedule("warm")
    with pytest.raises(ValueError, match="step"):
        Schedule("step", step=0)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("bce", "constant"),
        ("cmmq", "constant"),
        ("cmmq-code", "constant"),
        ("dcmh", "log"),
        ("prdh", "linear"),
        ("cmhh", "step"),
        ("ssah", "exponential"),
        ("mrl", "cosine"),
        ("uot-rcl", "cosine"),
        ("lsh", "constant"),
    ],
)
def test_each_method_declares_its_schedule(name, kind):
    shape = ProblemShape(ModalityShape("features", 6), ModalityShape("bow", 5), 3, True, 20, "tiny")
    hp = {"ssah": {"label_hidden": 16, "embed_dim": 8}, "uot-rcl": {"hidden": 16}}.get(name, {})
    method = methods.get(name)(shape, 16, **hp)
    assert method.lr_schedule().kind == kind


def test_the_skeleton_applies_the_schedule_to_every_group_and_logs_it():
    data = tiny_data()
    data.epochs = 4
    method = Recorder(SHAPE, 4)
    logs = [method.fit_epoch(data, e) for e in range(5)]
    for e, log in enumerate(logs):
        assert log["lr_image"] == pytest.approx(0.1 * 0.5 ** (e // 2))
        assert log["lr_text"] == pytest.approx(0.4 * 0.5 ** (e // 2))
    assert method.optimizers["text"].param_groups[0]["lr"] == logs[-1]["lr_text"] == pytest.approx(0.1)
    cosine = Recorder(SHAPE, 4, kind="cosine")
    lrs = [cosine.fit_epoch(data, e)["lr_image"] for e in range(5)]
    assert lrs == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)])


# ------------------------------------------------------------------------------------ epoch budget
def test_epoch_budget_is_a_typed_field():
    data = tiny_data()
    method = Recorder(SHAPE, 4, kind="linear")
    assert data.epochs is None and method.epoch_budget(data) == Recorder.default_epochs
    data.epochs = 3
    assert method.epoch_budget(data) == 3 and method.epoch_budget(data, override=9) == 9
    assert data.subset(torch.arange(5)).epochs == 3
    data.extra["epochs"] = 50  # no longer read
    assert method.epoch_budget(data) == 3
    logs = [method.fit_epoch(data, e) for e in range(3)]
    assert [log["lr_image"] for log in logs] == pytest.approx([0.1, 0.1 + (0.001 - 0.1) / 2, 0.001])
    fixed = Recorder(SHAPE, 4, kind="linear", schedule_epochs=5)  # a method's own length wins
    assert fixed.epoch_budget(data, fixed.lr_schedule().epochs) == 5


def test_runner_passes_the_epoch_budget(monkeypatch):
    from xbench.running import runner

    seen = []
    original = Recorder.fit_epoch

    def spy(self, data, epoch):
        seen.append(data.epochs)
        return original(self, data, epoch)

    monkeypatch.setattr(Recorder, "fit_epoch", spy)
    methods.registry.register("recorder", Recorder, replace=True)
    try:
        config = RunConfig(
            method="recorder",
            dataset="synthetic",
            bits=8,
            epochs=2,
            dataset_options=(
                ("num_items", 200),
                ("num_query", 20),
                ("num_train", 60),
                ("image_dim", 6),
                ("vocab_size", 5),
                ("num_classes", 3),
            ),
        )
        result = runner.execute(config)
    finally:
        methods.registry.unregister("recorder")
    assert result.status == "ok", getattr(result, "error", "")
    assert seen == [2, 2]


# ------------------------------------------------------------------------------------ per-term logging
def test_epoch_log_means_weights_constants_and_callables():
    log = EpochLog(("never",))
    log.add_terms({"loss": torch.tensor(1.0), "kept": (3, 4)})
    log.add_terms({"loss": 3.0, "kept": (1, 4)})
    log.add_terms({"acc": lambda: 0.25}, suffix="_dis")
    log.set("lr", 0.1)
    assert log.means() == {"never": 0.0, "loss": 2.0, "kept": 0.5, "acc_dis": 0.25, "lr": 0.1}


def test_fit_epoch_logs_each_term_as_its_mean_over_batches():
    data = tiny_data(n=20)  # batches of 8, 8, 4
    method = Recorder(SHAPE, 4)
    log = method.fit_epoch(data, 0)
    assert log["size"] == pytest.approx(20 / 3)  # mean over the three batches
    assert log["per_item"] == pytest.approx(1.0)  # Σ total / Σ weight
    assert set(log) == {"loss", "size", "per_item", "a", "lr_image", "lr_text"}


def test_logged_loss_matches_hand_computed_batches():
    torch.manual_seed(0)
    data = tiny_data(n=20)
    method = Recorder(SHAPE, 4)
    torch.manual_seed(0)
    clone = Recorder(SHAPE, 4)
    clone.load_state_dict(method.state_dict())
    log = method.fit_epoch(data, 0)
    order = torch.randperm(20, generator=torch.Generator().manual_seed(0))  # the seeded batch order
    opt = {
        "i": torch.optim.SGD(clone.image_net.parameters(), lr=0.1),
        "t": torch.optim.SGD(clone.text_net.parameters(), lr=0.4),
    }
    losses, terms_a = [], []
    for start in range(0, 20, 8):
        idx = order[start : start + 8]
        a = clone.image_net(data.image[idx]).pow(2).mean()
        loss = a + clone.text_net(data.text[idx]).pow(2).mean()
        for o in opt.values():
            o.zero_grad()
        loss.backward()
        for o in opt.values():
            o.step()
        losses.append(float(loss.detach()))
        terms_a.append(float(a.detach()))
    assert log["loss"] == pytest.approx(np.mean(losses), rel=1e-6)
    assert log["a"] == pytest.approx(np.mean(terms_a), rel=1e-6)


# ------------------------------------------------------------------------------------ eval mode
def test_evaluating_restores_the_mode_even_after_an_error():
    method = Recorder(SHAPE, 4)
    for start in (True, False):
        method.train(start)
        with method.evaluating():
            assert not method.training and not method.image_net.training
        assert method.training is start
        with pytest.raises(RuntimeError), method.evaluating():
            raise RuntimeError("boom")
        assert method.training is start and method.image_net.training is start


def test_fit_epoch_trains_in_train_mode_and_encode_restores_eval():
    method = Recorder(SHAPE, 4)
    method.eval()
    method.fit_epoch(tiny_data(), 0)
    assert all(method.modes) and method.training
    method.eval()
    method.encode("image", torch.randn(3, 6))
    assert not method.training


@pytest.mark.parametrize("name", ["bce", "dcmh", "cmhh", "mrl"])
def test_sample_losses_run_in_eval_mode_and_restore_train_mode(name):
    hp = {"batch_size": 8}
    method = methods.get(name)(SHAPE, 16, **hp)
    data = tiny_data()
    method.fit_epoch(data, 0)
    seen = []
    for module in (method.image_net, method.text_net):
        module.register_forward_pre_hook(lambda mod, args: seen.append(mod.training))
    losses = method.sample_losses(data)
    assert losses.shape == (len(data),) and np.isfinite(losses).all()
    assert seen and not any(seen)
    assert method.training


def test_net_is_the_one_modality_switch():
    method = Recorder(SHAPE, 4)
    assert method.net("image") is method.image_net and method.net("text") is method.text_net
    with pytest.raises(ValueError, match="modality"):
        method.net("audio")
