"""Validation-split model selection, MRL's Wikipedia protocol, and real-valued results in runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from xbench.datasets import load
from xbench.datasets.errors import DatasetError
from xbench.datasets.testing import write_wikipedia
from xbench.evaluating import metrics, realvalued
from xbench.reporting import results
from xbench.running import selection, store
from xbench.running.config import RunConfig
from xbench.running.grid import GridError, GridSpec, expand
from xbench.running.runner import execute

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


class EpochOutputs:
    """A stand-in method whose outputs at epoch e are fixed arrays (so every mAP can be recomputed)."""

    def __init__(self, tables: list[dict[int, np.ndarray]]):
        self.tables, self.epoch, self.training, self.device, self.bits = (
            tables,
            0,
            True,
            torch.device("cpu"),
            8,
        )

    def eval(self):
        self.training = False

    def train(self, mode=True):
        self.training = mode

    def continuous(self, modality, x):
        rows = x[:, 0].long().numpy()
        return torch.as_tensor(self.tables[self.epoch][modality][rows], dtype=torch.float32)

    def encode_all(self, modality, x):
        return torch.where(self.continuous(modality, x) >= 0, 1, -1).to(torch.int8)


def _sides(rng, n_items):
    """Validation / test sides whose 'features' are row ids into the stub's tables."""

    def side(rows):
        ids = torch.as_tensor(rows, dtype=torch.float32)[:, None]
        return {"image": ids, "text": ids, "labels": torch.as_tensor(rng.integers(0, 3, len(rows)))}

    return side(np.arange(0, 40)), side(np.arange(40, n_items))


def test_selector_picks_the_best_validation_epoch_and_keeps_its_test_results():
    rng = np.random.default_rng(0)
    n, epochs = 100, 6
    val, test = _sides(rng, n)
    labels = torch.cat([val["labels"], test["labels"]]).numpy()
    tables = []
    for e in range(epochs):  # outputs drift toward the labels, then away (a peak somewhere inside)
        strength = [0.2, 1.5, 0.4, 2.5, 0.1, 0.6][e]
        centre = rng.normal(size=(3, 8))
        tables.append({m: strength * centre[labels] + rng.normal(size=(n, 8)) for m in ("image", "text")})
    method = EpochOutputs(tables)
    sel = selection.ValidationSelector(val, test, test, None, ("hamming", "cosine"), every=1)
    for e in range(epochs):
        method.epoch = e
        entry = {}
        sel.after_epoch(method, e, epochs, entry)
        assert set(entry) == {"val_hamming_i2t", "val_hamming_t2i", "val_cosine_i2t", "val_cosine_t2i"}

    def val_score(e, retrieval):
        t = tables[e]
        vi, vt, vl = t["image"][:40], t["text"][:40], labels[:40]
        if retrieval == "hamming":
            f = metrics.mean_average_precision
            ci, ct = np.where(vi >= 0, 1, -1), np.where(vt >= 0, 1, -1)
            return 0.5 * (f(ci, ct, vl, vl) + f(ct, ci, vl, vl))
        return 0.5 * (realvalued.evaluate(vi, vt, vl, vl)["map"] + realvalued.evaluate(vt, vi, vl, vl)["map"])

    for r in ("hamming", "cosine"):
        scores = [val_score(e, r) for e in range(epochs)]
        best = int(np.argmax(scores))
        got = sel.best[r]
        assert got["epoch"] == best + 1 and got["validation_map"] == pytest.approx(scores[best])
        t = tables[best]
        ti, tt, tl = t["image"][40:], t["text"][40:], labels[40:]
        expect = (
            metrics.mean_average_precision(np.where(ti >= 0, 1, -1), np.where(tt >= 0, 1, -1), tl, tl)
            if r == "hamming"
            else realvalued.evaluate(ti, tt, tl, tl)["map"]
        )
        assert got["i2t"]["map"] == pytest.approx(expect)
    assert [v["retrieval"] for v in sel.variants()] == ["hamming", "cosine"]


def test_selector_every_e_epochs_and_last():
    sel = selection.ValidationSelector({}, {}, {}, None, ("hamming",), every=3)
    assert [e + 1 for e in range(7) if sel.due(e, 7)] == [3, 6, 7]


def test_carve_validation_is_seeded_disjoint_and_prefers_the_datasets_own():
    from xbench.datasets.base import Split

    split = Split(query=np.arange(0, 10), train=np.arange(10, 110), database=np.arange(10, 110))
    a, val, source = selection.carve_validation(split, 0.1, seed=4)
    _, val2, _ = selection.carve_validation(split, 0.1, seed=4)
    assert np.array_equal(val, val2) and len(val) == 10 and "fraction 0.1" in source
    assert not set(val) & set(a.train) and set(val) | set(a.train) == set(split.train)
    assert np.array_equal(a.database, split.database)
    own = Split(query=split.query, train=split.train, database=split.database, validation=np.arange(110, 120))
    same, val3, source3 = selection.carve_validation(own, 0.1, seed=4)
    assert same is own and np.array_equal(val3, np.arange(110, 120)) and source3 == "dataset validation split"


def test_wikipedia_protocol_mrl(tmp_path):
    write_wikipedia(tmp_path / "wikipedia", n_train=20, n_test=240)
    data = load("wikipedia", tmp_path, protocol="mrl")
    s = data.split
    assert s.sizes() == {"query": 9, "train": 20, "database": 9, "validation": 231}
    assert np.array_equal(s.validation, np.arange(20, 251)) and np.array_equal(s.query, np.arange(251, 260))
    assert np.array_equal(s.query, s.database) and s.protocol == "query-in-database"
    default = load("wikipedia", tmp_path).split
    assert default.validation is None and default.sizes() == {"query": 240, "train": 20, "database": 20}
    with pytest.raises(DatasetError, match="protocol must be one of svcl, mrl"):
        load("wikipedia", tmp_path, protocol="dscmr")
    write_wikipedia(tmp_path / "small" / "wikipedia", n_train=20, n_test=5)
    with pytest.raises(DatasetError, match="more than 231 test pairs"):
        load("wikipedia", tmp_path / "small", protocol="mrl")


@pytest.mark.skipif(not (SHARED / "wikipedia" / "raw_features.mat").is_file(), reason="Wikipedia copy absent")
def test_wikipedia_protocol_mrl_real_sizes():
    s = load("wikipedia", SHARED, protocol="mrl").split
    assert (len(s.train), len(s.validation), len(s.query)) == (2173, 231, 462)


def test_run_ids_of_default_runs_are_unchanged():
    cfg = RunConfig(method="lsh", dataset="synthetic", bits=16)
    assert not {"retrieval", "select", "select_every", "validation_fraction"} & set(cfg.identity())
    sel = RunConfig(method="lsh", dataset="synthetic", bits=16, select="validation", retrieval=("cosine",))
    assert sel.run_id() != cfg.run_id() and sel.identity()["select"] == "validation"


def test_grid_keys_and_bad_values():
    spec = GridSpec(methods=["lsh"], datasets=["synthetic"], bits=[16])
    spec.update({"retrieval": "hamming,cosine", "select": "validation", "select_every": 2}, "t")
    (cfg,) = expand(spec)
    assert cfg.retrieval == ("cosine",) and cfg.select == "validation" and cfg.select_every == 2
    for bad in ({"select": "best"}, {"retrieval": ["manhattan"]}, {"validation_fraction": 1.5}):
        spec = GridSpec(methods=["lsh"], datasets=["synthetic"], bits=[16])
        spec.update(bad, "t")
        with pytest.raises(GridError):
            expand(spec)


@pytest.mark.parametrize("method", ["cca", "lsh"])
def test_runner_stores_cosine_and_selected_epoch_beside_hamming(tmp_path, method):
    write_wikipedia(tmp_path / "data" / "wikipedia", n_train=60, n_test=240)
    cfg = RunConfig(
        method=method,
        dataset="wikipedia",
        bits=4,
        noise="mrl:0.4",
        epochs=2,
        topk=None,
        dataset_options=(("protocol", "mrl"),),
        retrieval=("cosine",),
        select="validation",
    )
    res = execute(cfg, tmp_path / "data")
    assert res.status == "ok", res.error
    assert res.split["validation"] == 231 and res.noise["per_modality"]
    kinds = [(v["retrieval"], v["selection"]) for v in res.metrics["variants"]]
    assert kinds == [("cosine", "last"), ("hamming", "validation"), ("cosine", "validation")]
    assert res.metrics["variants"][0]["i2t"]["similarity"] == "cosine"
    assert all("val_hamming_i2t" in h and "val_cosine_t2i" in h for h in res.history)
    store.save_result(tmp_path / "r", res)
    frame = results.load_runs(tmp_path / "r")
    assert sorted(set(zip(frame["retrieval"], frame["selection"], strict=False))) == [
        ("cosine", "last"),
        ("cosine", "validation"),
        ("hamming", "last"),
        ("hamming", "validation"),
    ]
    ham = frame[(frame["retrieval"] == "hamming") & (frame["selection"] == "last") & (frame["task"] == "i2t")]
    assert float(ham["map"].iloc[0]) == pytest.approx(res.metrics["i2t"]["map"])
    saved = json.loads(next((tmp_path / "r").rglob("*.json")).read_text())
    assert saved["config"]["select"] == "validation"
