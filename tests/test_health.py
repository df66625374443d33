"""Code health (distinct codes, bit balance, ties), selection quality, and their report/check/plot use."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.evaluating import health, selection_quality
from xbench.methods.lsh import LSH
from xbench.reporting import results
from xbench.running.config import RunConfig
from xbench.running.runner import execute

from .conftest import TINY, tiny_options


# ------------------------------------------------------------------ health by value
def test_set_health_by_hand():
    codes = np.array([[1, 1, -1], [1, -1, -1], [1, 1, -1], [1, 1, -1]])
    h = health.set_health(codes)
    # bit means: 1, 0.5, -1 → balance (1 + 0.5 + 1)/3; two constant bits; codes {++-, +--}
    assert h["distinct"] == 2 and h["distinct_fraction"] == 0.5
    assert h["bit_balance"] == pytest.approx(2.5 / 3)
    assert h["constant_bits"] == 2 and h["n"] == 4 and h["bits"] == 3


def test_set_health_balanced_codes():
    codes = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    h = health.set_health(torch.as_tensor(codes, dtype=torch.int8))
    assert h == {
        "n": 4,
        "bits": 2,
        "distinct": 4,
        "distinct_fraction": 1.0,
        "bit_balance": 0.0,
        "constant_bits": 0,
    }


def test_tied_at_nearest_by_hand():
    db = np.array([[1, 1], [1, 1], [1, -1], [-1, -1]])
    q = np.array([[1, 1], [-1, 1]])
    # q0: distances 0,0,1,2 → 2 of 4 tied at 0; q1: distances 1,1,2,1 → 3 of 4 tied at 1
    np.testing.assert_allclose(health.tied_at_nearest(q, db, chunk=1), [0.5, 0.75])


def _codes(n_db=100, k=16, seed=0, collapse_text=False):
    rng = np.random.default_rng(seed)
    out = {
        f"{p}_{m}": np.where(rng.random((n, k)) < 0.5, 1, -1).astype(np.int8)
        for p, n in (("query", 20), ("db", n_db))
        for m in ("image", "text")
    }
    if collapse_text:
        out["db_text"] = np.tile(out["db_text"][:3], (n_db // 3 + 1, 1))[:n_db]
    return out


def test_thresholds():
    assert health.code_health(_codes())["problems"] == []
    h = health.code_health(_codes(collapse_text=True))
    assert h["sets"]["database"]["text"]["distinct"] == 3
    assert any("text database: 3 distinct" in p for p in h["problems"])
    assert h["tied_at_nearest"]["i2t"]["mean"] >= 1 / 3 - 1e-9  # a third of the database per code
    # bit balance above 0.75: set 13 of 16 bits constant (balance ≥ 13/16)
    c = _codes()
    c["query_image"][:, :13] = 1
    found = health.problems(health.code_health(c))
    # the boundary: three constant bits and one balanced bit give exactly 0.75 (healthy)
    edge = np.ones((8, 4), dtype=np.int8)
    edge[:4, 3] = -1
    assert health.problems({"sets": {"query": {"image": health.set_health(edge)}}}) == []
    edge[4, 3] = -1  # bit 3: mean −0.25 → balance 0.8125
    assert health.problems({"sets": {"query": {"image": health.set_health(edge)}}}) == [
        "image query: bit balance 0.81 (> 0.75)"
    ]
    assert found == [
        f"image query: bit balance {health.set_health(c['query_image'])['bit_balance']:.2f} (> 0.75)"
    ]
    # the distinct-code floor is capped at 2^K: 4-bit codes on a 1000-item database need 2 codes
    small = {k: v[:, :4] for k, v in _codes(n_db=1000).items()}
    small["db_image"] = np.tile([[1, 1, -1, -1], [-1, -1, 1, 1]], (500, 1))
    assert not [p for p in health.problems(health.code_health(small)) if "distinct" in p]
    small["db_image"][:] = 1
    assert any(
        "image database: 1 distinct codes (< 10% of 16)" in p
        for p in health.problems(health.code_health(small))
    )


# ------------------------------------------------------------------ selection quality by value
def test_selection_stats_by_hand():
    clean = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    noisy = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]])
    unc, ovl = selection_quality.sample_kinds(clean, noisy)
    assert unc.tolist() == [True, False, False, True, False]
    assert ovl.tolist() == [True, False, True, True, False]
    s = selection_quality.selection_stats(np.array([0, 2, 4]), unc, ovl)
    assert s == {
        "selected_fraction": 0.6,
        "selected_clean_precision": 1 / 3,
        "selected_clean_recall": 0.5,
        "selected_overlap_precision": 2 / 3,
        "selected_overlap_recall": 2 / 3,
    }
    mask = np.array([True, False, True, False, True])
    assert selection_quality.selection_stats(mask, unc, ovl) == s
    assert selection_quality.selection_stats([], unc, ovl)["selected_clean_precision"] is None
    # per-modality noise: a sample is uncorrupted only if both modalities' labels are right
    text = clean.copy()
    text[0] = [0, 1, 0]
    unc2, ovl2 = selection_quality.sample_kinds(clean, noisy, text)
    assert unc2.tolist() == [False, False, False, True, False] and not ovl2[0]
    with pytest.raises(ValueError, match="kept indices"):
        selection_quality.kept_mask([7], 5)


# ------------------------------------------------------------------ the runner
class _Collapsed(LSH):
    name = "test-collapsed"
    display_name, order, color, marker = "Collapsed", 900, "#d55e00", "v"
    description = "every text code is the same (test only)"

    def continuous(self, modality, x):
        out = super().continuous(modality, x)
        return torch.ones_like(out) if modality == "text" else out


class _Selecting(LSH):
    """Keeps the training samples with even index in even epochs, every sample in odd ones."""

    name = "test-selecting"
    display_name, order, color, marker = "Selecting", 901, "#029e73", "^"
    description = "selects samples (test only)"
    default_epochs = 2

    def fit_epoch(self, data, epoch):
        n = len(data)
        self._kept = torch.arange(0, n, 2) if epoch % 2 == 0 else torch.ones(n, dtype=torch.bool)
        return {"loss": 0.0}

    def selected_samples(self):
        return self._kept


@pytest.fixture
def fake_methods():
    for cls in (_Collapsed, _Selecting):
        methods.registry.register(cls.name, cls, replace=True)
    yield
    for cls in (_Collapsed, _Selecting):
        methods.registry.unregister(cls.name)


def _config(method, **kw):
    return RunConfig(
        method=method,
        dataset="synthetic",
        bits=16,
        noise="symmetric:0.5",
        dataset_options=tuple(sorted(TINY.items())),
        **kw,
    )


def test_runner_stores_health_and_selection(tmp_path, fake_methods):
    ok = execute(_config("lsh"), data_root=tmp_path)
    assert ok.status == "ok", ok.error
    assert ok.health["problems"] == []
    assert ok.health["sets"]["database"]["text"] == health.set_health(ok.arrays["db_text"])
    assert "selected_clean_precision" not in ok.history[0]  # lsh selects nothing

    bad = execute(_config("test-collapsed"), data_root=tmp_path)
    assert bad.status == "ok" and bad.health["sets"]["database"]["text"]["distinct"] == 1
    assert any("text database" in p for p in bad.health["problems"])

    sel = execute(_config("test-selecting", epochs=2), data_root=tmp_path)
    assert sel.status == "ok", sel.error
    corrupted = sel.arrays["corrupted"]
    n = len(corrupted)
    even = np.zeros(n, dtype=bool)
    even[::2] = True
    clean = ~corrupted
    first, second = sel.history
    assert first["selected_fraction"] == pytest.approx(even.mean())
    assert first["selected_clean_precision"] == pytest.approx((even & clean).sum() / even.sum())
    assert first["selected_clean_recall"] == pytest.approx((even & clean).sum() / clean.sum())
    assert second["selected_clean_precision"] == pytest.approx(clean.mean())
    assert second["selected_clean_recall"] == 1.0 and second["selected_overlap_recall"] == 1.0
    assert sel.extra["selection_base"]["clean"] == pytest.approx(clean.mean())
    assert 0 < clean.mean() < 1


def test_report_marks_and_check_fails_unhealthy(cli, tmp_path, fake_methods):
    res = cli(
        "run", "--methods", "lsh,test-collapsed", "--bits", "16", "--results", tmp_path, "-q", *tiny_options()
    )
    assert res.exit_code == 0, res.output
    stored = {rec.method: rec for rec in results.scan(tmp_path).records}
    assert stored["test-collapsed"].health["problems"] and not stored["lsh"].health["problems"]
    report = cli("report", "--results", tmp_path)
    assert report.exit_code == 0, report.output
    rows = [line for line in report.output.splitlines() if line.startswith("|")]
    collapsed = [r for r in rows if "Collapsed" in r]
    lsh = [r for r in rows if "LSH" in r]
    assert collapsed and all(health.MARK in r for r in collapsed)
    assert lsh and not any(health.MARK in r for r in lsh)
    assert health.footnote() in report.output

    base = tmp_path / "baseline.json"
    assert cli("baseline", "--results", tmp_path, "--out", base).exit_code == 0
    assert cli("check", "--results", tmp_path, "--baseline", base).exit_code == 0
    failing = cli("check", "--results", tmp_path, "--baseline", base, "--fail-unhealthy")
    assert failing.exit_code == 1
    assert "UNHEALTHY Collapsed" in failing.output and "UNHEALTHY LSH" not in failing.output


def test_health_computed_for_runs_stored_without_it(cli, tmp_path, fake_methods):
    cli("run", "--methods", "test-collapsed", "--bits", "16", "--results", tmp_path, "-q", *tiny_options())
    (path,) = list(results.result_files(tmp_path))
    data = json.loads(path.read_text())
    stored = data.pop("health")
    path.write_text(json.dumps(data))
    assert results.code_health(results.read_run(path)) == stored  # the results layer computes the same


def test_selection_plot(cli, tmp_path, fake_methods):
    res = cli(
        "run",
        "--methods",
        "test-selecting,lsh",
        "--bits",
        "16",
        "--noise",
        "symmetric:0.5",
        "--epochs",
        "2",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "figs"
    plot = cli("plot", "--results", tmp_path, "--kind", "selection", "--out", out, "--formats", "png")
    assert plot.exit_code == 0, plot.output
    (png,) = out.glob("*.png")
    assert png.name.startswith("selection_synthetic_16b_symmetric0.5")
    none = cli("run", "--methods", "lsh", "--bits", "8", "--results", tmp_path / "b", "-q", *tiny_options())
    assert none.exit_code == 0
    empty = cli("plot", "--results", tmp_path / "b", "--kind", "selection", "--out", out)
    assert empty.exit_code == 2 and "no run recorded selected samples" in empty.output


# ------------------------------------------------------------------ built-in selecting methods
@pytest.mark.parametrize(
    "method,hparams,epochs",
    [
        ("cmmq", (("t_k", 1),), 2),
        ("cmmq-code", (("num_gradual", 2),), 2),
        ("uot-rcl", (("warmup_epochs", 1),), 2),
    ],
)
def test_builtin_methods_report_selection(tmp_path, method, hparams, epochs):
    cfg = RunConfig(
        method=method,
        dataset="synthetic",
        bits=16,
        noise="symmetric:0.5",
        epochs=epochs,
        hparams=hparams,
        dataset_options=tuple(sorted(TINY.items())),
    )
    result = execute(cfg, data_root=tmp_path)
    assert result.status == "ok", result.error
    last = result.history[-1]
    n = len(result.arrays["corrupted"])
    assert last["selected_fraction"] is not None and 0 < last["selected_fraction"] <= 1
    if method.startswith("cmmq"):  # every sample kept in epoch 1, the small-loss share afterwards
        assert result.history[0]["selected_fraction"] == 1.0
        assert last["selected_fraction"] == pytest.approx(last["kept_fraction"])
        assert last["selected_fraction"] < 1.0
    else:
        assert "selected_fraction" not in result.history[0]  # warm-up: no transport yet
        assert last["selected_fraction"] == pytest.approx(last["transported"] / n)
    assert 0.0 <= last["selected_clean_precision"] <= 1.0


def test_bce_selects_nothing(tmp_path):
    cfg = RunConfig(
        method="bce",
        dataset="synthetic",
        bits=16,
        noise="symmetric:0.5",
        epochs=1,
        dataset_options=tuple(sorted(TINY.items())),
    )
    result = execute(cfg, data_root=tmp_path)
    assert result.status == "ok" and "selected_fraction" not in result.history[0]
