"""Run ids: one per experiment whatever the spelling; files: ids follow the content; --force reruns."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from xbench.reporting import results
from xbench.running import executor, grid, store
from xbench.running.config import RunConfig, RunResult
from xbench.running.preflight import canonical_noise

from .conftest import tiny_options


def test_noise_spellings_are_one_run():
    spellings = ("symmetric:0.6", "symmetric:0.60", "Symmetric:0.6", " symmetric:.6")
    assert {canonical_noise(s) for s in spellings} == {"symmetric:0.6"}
    assert {canonical_noise(s) for s in ("none", "clean", "none:0", "")} == {"none"}
    assert canonical_noise("symmetric:0.123456789") == "symmetric:0.123456789"  # no digits lost
    spec = grid.build_specs(
        None,
        {
            "methods": "lsh",
            "datasets": "synthetic",
            "bits": "16",
            "noise": "symmetric:0.6,symmetric:0.60,Symmetric:0.6",
        },
    )[0]
    configs = [executor.normalize(c) for c in grid.expand(spec)]
    todo, done = executor.plan(configs, "unused-results-folder", ["cpu"])
    assert len(todo) == 1 and not done and todo[0].config.noise == "symmetric:0.6"


def _files_data(path, shift: int) -> None:
    rng = np.random.default_rng(shift)
    np.savez(
        path,
        image=rng.standard_normal((60, 6)).astype(np.float32),
        text=rng.integers(0, 2, (60, 9)).astype(np.float32),
        labels=rng.integers(0, 3, 60),
    )


def test_files_run_ids_follow_the_file_content(tmp_path):
    data = tmp_path / "mine.npz"
    _files_data(data, 0)
    cfg = RunConfig(method="lsh", dataset=f"files:{data}", bits=8)
    first = cfg.run_id(executor.resolve_identity(cfg))
    assert first == cfg.run_id(executor.resolve_identity(cfg))
    _files_data(data, 1)  # same name, new content
    assert cfg.run_id(executor.resolve_identity(cfg)) != first


def test_failed_force_rerun_leaves_no_codes_of_the_old_run(tmp_path):
    config = {"method": "lsh", "dataset": "synthetic", "bits": 8, "noise": "none", "seed": 0}
    ok = RunResult(run_id="abc", config=config, status="ok", arrays={"query_image": np.ones((2, 8), np.int8)})
    path = store.save_result(tmp_path, ok)
    assert path.with_suffix(".npz").exists()
    assert json.loads(path.read_text())["arrays_sha256"]
    failed = RunResult(run_id="abc", config=config, status="failed", error="RuntimeError: boom")
    store.save_result(tmp_path, failed)
    assert json.loads(path.read_text())["status"] == "failed"
    assert not path.with_suffix(".npz").exists() and results.read_run(path).arrays() == {}


def test_force_rerun_through_the_cli(cli, tmp_path):
    args = [
        "run",
        "--methods",
        "lsh",
        "--datasets",
        "synthetic",
        "--bits",
        "8",
        "-q",
        "--results",
        tmp_path,
        *tiny_options(),
    ]
    assert cli(*args).exit_code == 0
    (path,) = tmp_path.rglob("*.json")
    before = path.stat().st_mtime_ns
    res = cli(*args, "--force")
    assert res.exit_code == 0 and "0 already done, 1 to run" in res.output
    assert path.stat().st_mtime_ns > before and not list(tmp_path.rglob("*.claim"))


def test_plan_starts_the_longest_cells_first_and_keeps_the_grid_order_among_equals():
    """Longest-processing-time order with the epoch budget as the proxy: --epochs, else the method's
    default_epochs (dcmh 500, bce 100, lsh 1); ties keep the grid's order."""
    configs = [
        RunConfig(method="lsh", dataset="synthetic", bits=16),
        RunConfig(method="bce", dataset="synthetic", bits=16),
        RunConfig(method="dcmh", dataset="synthetic", bits=16),
        RunConfig(method="bce", dataset="synthetic", bits=32),
        RunConfig(method="lsh", dataset="synthetic", bits=32, epochs=1000),
        RunConfig(method="cmmq", dataset="synthetic", bits=16),
    ]
    todo, _ = executor.plan(configs, "unused-results-folder", ["cpu"])
    got = [(c.config.method, c.config.bits) for c in todo]
    assert got == [("lsh", 32), ("dcmh", 16), ("bce", 16), ("bce", 32), ("cmmq", 16), ("lsh", 16)]


def test_changed_defaults_give_new_run_ids(monkeypatch):
    """A run id folds in every resolved hyperparameter and, without --epochs, the method's
    default_epochs: changing either default makes a new run instead of reusing the old result."""
    from xbench import methods

    cfg = RunConfig(method="bce", dataset="synthetic", bits=16)
    rid = cfg.run_id(executor.resolve_identity(cfg))
    cls = methods.get("bce")
    monkeypatch.setattr(cls, "default_epochs", cls.default_epochs + 1)
    assert cfg.run_id(executor.resolve_identity(cfg)) != rid
    fixed = RunConfig(method="bce", dataset="synthetic", bits=16, epochs=5)
    assert "default_epochs" not in executor.resolve_identity(fixed)
    monkeypatch.undo()
    key = next(iter(cls.hyperparameters))
    hyper = cls.hyperparameters[key]
    monkeypatch.setitem(
        cls.hyperparameters, key, dataclasses.replace(hyper, default=f"changed-{hyper.default}")
    )
    assert cfg.run_id(executor.resolve_identity(cfg)) != rid
