"""The grid runner: expansion, resume, failures, config errors, determinism, parallel and Dask."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from xbench import methods
from xbench.methods.lsh import LSH
from xbench.reporting import results
from xbench.running import executor, grid
from xbench.running.config import RunConfig

from .conftest import tiny_options


class _Exploding(LSH):
    name = "test-exploding"
    description = "raises during training (test only)"

    def fit_epoch(self, data, epoch):
        raise RuntimeError("boom")


class _NaN(LSH):
    name = "test-nan"
    description = "returns a NaN loss (test only)"

    def fit_epoch(self, data, epoch):
        return {"loss": float("nan")}


class _Trained(LSH):
    """A tiny trainable method (linear heads + proxy regression) to test determinism."""

    name = "test-trained"
    description = "a small trained method (test only)"
    default_epochs = 3

    def __init__(self, shape, bits, **kw):
        super().__init__(shape, bits, **kw)
        self.img = torch.nn.Linear(shape.image.dim, bits)
        self.txt = torch.nn.Linear(shape.text.dim, bits)
        self.proxy = torch.nn.Linear(shape.num_classes, bits, bias=False)
        self.opt = torch.optim.Adam(self.parameters(), lr=1e-2)

    def fit_epoch(self, data, epoch):
        total = 0.0
        for idx in self.batches(len(data), 32):
            target = torch.tanh(self.proxy(data.labels[idx]))
            loss = ((torch.tanh(self.img(data.image[idx])) - target) ** 2).mean() + (
                (torch.tanh(self.txt(data.text[idx])) - target) ** 2
            ).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            total += loss.item()
        return {"loss": total}

    def continuous(self, modality, x):
        return (self.img if modality == "image" else self.txt)(x.float())


@pytest.fixture
def test_methods():
    for cls in (_Exploding, _NaN, _Trained):
        methods.registry.register(cls.name, cls, replace=True)
    yield
    for cls in (_Exploding, _NaN, _Trained):
        methods.registry.unregister(cls.name)


def _runs(folder: Path) -> list[dict]:
    """The raw stored documents (the tests look at the file format itself)."""
    return [json.loads(p.read_text()) for p in results.result_files(folder)]


# ---------------------------------------------------------------------------------- grid expansion
def test_cli_grid_expansion():
    spec = grid.build_specs(
        None,
        {
            "methods": "lsh",
            "datasets": "synthetic",
            "bits": "16,32",
            "noise": "none",
            "seeds": "0,1,2",
            "set": ["lsh.center=true,false"],
        },
    )[0]
    cells = grid.expand(spec)
    assert len(cells) == 2 * 3 * 2
    assert {c.hparams for c in cells} == {(("center", "true"),), (("center", "false"),)}
    assert {c.seed for c in cells} == {0, 1, 2} and {c.bits for c in cells} == {16, 32}


def test_toml_groups_and_cli_override(tmp_path):
    cfg = tmp_path / "exp.toml"
    cfg.write_text("""
methods = ["lsh"]
datasets = ["synthetic"]
bits = [16, 32, 64]
noise = ["none"]
epochs = 5
[set]
"lsh.center" = [true]
[groups.small]
bits = [8]
[groups.sweep]
seeds = [0, 1]
[groups.sweep.set]
"lsh.center" = [true, false]
""")
    specs = {s.name: s for s in grid.build_specs(cfg, {"epochs": 2})}
    assert set(specs) == {"small", "sweep"}
    small, sweep = grid.expand(specs["small"]), grid.expand(specs["sweep"])
    assert [c.bits for c in small] == [8] and small[0].epochs == 2  # CLI overrides the file
    assert len(sweep) == 3 * 2 * 2 and all(c.group == "sweep" for c in sweep)
    only = grid.build_specs(cfg, {}, groups=["small"])
    assert [s.name for s in only] == ["small"]
    with pytest.raises(grid.GridError, match="--group nope"):
        grid.build_specs(cfg, {}, groups=["nope"])


def test_bad_toml_and_bad_set(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("methods = [\n")
    with pytest.raises(grid.GridError, match="invalid TOML"):
        grid.build_specs(bad, {})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("metods = ['lsh']\n")
    with pytest.raises(grid.GridError, match="unknown key 'metods'"):
        grid.build_specs(unknown, {})
    with pytest.raises(grid.GridError, match="METHOD.PARAM"):
        grid.parse_set_options(["center=1"])


def test_shipped_experiment_files_expand():
    root = Path(__file__).resolve().parents[1] / "results" / "experiments"
    for name in ("table2.toml", "ci.toml"):
        specs = grid.build_specs(root / name, {})
        assert specs and all(s.methods and s.datasets and s.bits for s in specs)
    table2 = [c for s in grid.build_specs(root / "table2.toml", {}) for c in grid.expand(s)]
    assert {c.bits for c in table2} == {32, 64, 128} and {c.noise for c in table2} == {"symmetric:0.6"}
    assert {c.dataset for c in table2} == {"mirflickr25k", "nuswide", "mscoco"}


def test_run_id_is_stable_and_distinguishes_configs():
    a = RunConfig(method="lsh", dataset="synthetic", bits=16)
    assert a.run_id() == RunConfig(method="lsh", dataset="synthetic", bits=16).run_id()
    assert a.run_id() != RunConfig(method="lsh", dataset="synthetic", bits=32).run_id()
    assert a.run_id() != RunConfig(method="lsh", dataset="synthetic", bits=16, seed=1).run_id()
    norm = executor.normalize(
        RunConfig(method="lsh", dataset="synthetic", bits=16, hparams=(("center", "true"),))
    )
    assert norm.hparams == (("center", True),)


# ---------------------------------------------------------------------------------- config errors
def test_config_errors_reported_together_before_training(cli, tmp_path):
    res = cli(
        "run",
        "--methods",
        "lsh,nope",
        "--datasets",
        "synthetic,nada",
        "--noise",
        "weird:0.1,symmetric:1.5",
        "--bits",
        "0",
        "--set",
        "lsh.colour=1",
        "--results",
        tmp_path,
    )
    assert res.exit_code == 2
    for needle in (
        "unknown method 'nope'",
        "unknown dataset 'nada'",
        "unknown noise model 'weird'",
        "rate must be in [0, 1)",
        "code lengths must be positive",
        "unknown hyperparameter 'colour'",
    ):
        assert needle in res.output
    assert not (tmp_path / "runs").exists()
    lines = res.output.strip().splitlines()
    assert len(lines) == 6 and all(line.startswith("Error: ") for line in lines)  # one line per problem


# ---------------------------------------------------------------------------------- failures
def test_failing_method_does_not_stop_grid(cli, tmp_path, test_methods):
    res = cli(
        "run",
        "--methods",
        "lsh,test-exploding,test-nan",
        "--bits",
        "8",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    )
    assert res.exit_code == 1
    runs = {r["config"]["method"]: r for r in _runs(tmp_path)}
    assert runs["lsh"]["status"] == "ok"
    assert runs["test-exploding"]["status"] == "failed" and "boom" in runs["test-exploding"]["error"]
    assert runs["test-nan"]["status"] == "failed" and "non-finite loss" in runs["test-nan"]["error"]
    assert "FAILED" in res.output
    # failed runs are retried on the next invocation, successful ones skipped
    again = cli(
        "run",
        "--methods",
        "lsh,test-exploding,test-nan",
        "--bits",
        "8",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    )
    assert "1 already done, 2 to run" in again.output


# ---------------------------------------------------------------------------------- resume
def test_interrupted_write_leaves_no_result_that_counts(cli, tmp_path, monkeypatch):
    args = ("run", "--methods", "lsh", "--bits", "8,16", "--results", tmp_path, "-q", *tiny_options())
    real_replace = os.replace
    calls = {"n": 0}

    def crash_on_second_json(src, dst):
        if str(dst).endswith(".json"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt  # killed between the temp write and the rename
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_json)
    assert cli(*args).exit_code == 130
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(_runs(tmp_path)) == 1
    assert not list(tmp_path.rglob(".tmp-*"))  # the temp file was cleaned up
    # a truncated JSON (e.g. a copy interrupted outside xbench) does not count either
    first = next(tmp_path.rglob("*.json"))
    first.write_text(first.read_text()[:50])
    res = cli(*args)
    assert res.exit_code == 0 and "0 already done, 2 to run" in res.output
    assert len(_runs(tmp_path)) == 2
    assert all(json.loads(p.read_text())["status"] == "ok" for p in tmp_path.rglob("*.json"))


# ---------------------------------------------------------------------------------- determinism
def _codes(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for rec in results.scan(folder).records:
        out[rec.run_id] = {**rec.arrays(), "map": np.array([rec.tasks["i2t"].map, rec.tasks["t2i"].map])}
    return out


def _assert_same(a, b):
    assert a.keys() == b.keys() and a
    for rid in a:
        for key in a[rid]:
            np.testing.assert_array_equal(a[rid][key], b[rid][key])


def test_determinism_same_seed_same_codes(cli, tmp_path, test_methods):
    args = ["run", "--methods", "test-trained", "--bits", "16", "--noise", "none", "-q", *tiny_options()]
    cli(*args, "--results", tmp_path / "a")
    cli(*args, "--results", tmp_path / "b")
    _assert_same(_codes(tmp_path / "a"), _codes(tmp_path / "b"))
    cli(*args[: -len(tiny_options())], *tiny_options(), "--seeds", "1", "--results", tmp_path / "c")
    assert (
        next(iter(_codes(tmp_path / "c").values()))["map"].tolist()
        != next(iter(_codes(tmp_path / "a").values()))["map"].tolist()
    )


@pytest.mark.slow
def test_jobs_2_equals_jobs_1(cli, tmp_path):
    args = [
        "run",
        "--methods",
        "lsh,bce",
        "--bits",
        "8,16",
        "--seeds",
        "0,1",
        "--epochs",
        "2",
        "-q",
        *tiny_options(),
    ]
    assert cli(*args, "--results", tmp_path / "serial").exit_code == 0
    assert cli(*args, "--jobs", "2", "--results", tmp_path / "parallel").exit_code == 0
    _assert_same(_codes(tmp_path / "serial"), _codes(tmp_path / "parallel"))


@pytest.mark.slow
def test_dask_backend_on_local_cluster(cli, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as lc:
        args = ["run", "--methods", "lsh", "--bits", "8,16", "-q", *tiny_options()]
        res = cli(
            *args, "--backend", "dask", "--scheduler", lc.scheduler_address, "--results", tmp_path / "dask"
        )
        assert res.exit_code == 0, res.output
    cli(*args, "--results", tmp_path / "local")
    _assert_same(_codes(tmp_path / "dask"), _codes(tmp_path / "local"))


def test_eval_every_and_loss_epochs_recorded(cli, tmp_path, test_methods):
    res = cli(
        "run",
        "--methods",
        "test-trained",
        "--bits",
        "8",
        "--epochs",
        "4",
        "--eval-every",
        "2",
        "--noise",
        "none",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    )
    assert res.exit_code == 0, res.output
    (data,) = _runs(tmp_path)
    hist = data["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert "test_i2t" in hist[1] and "test_i2t" not in hist[0] and "train_clean_t2i" in hist[3]
    assert data["extra"]["epochs"] == 4


def test_store_dataframe(cli, tmp_path):
    cli("run", "--methods", "lsh", "--bits", "8,16", "--results", tmp_path, "-q", *tiny_options())
    frame = results.load_runs(tmp_path)
    assert len(frame) == 4 and set(frame.task) == {"i2t", "t2i"} and frame["map"].between(0, 1).all()


def test_loky_workers_tolerate_allocator_growth(monkeypatch):
    """A grid's worker raises loky's memory-leak bound (300 MB, after which loky replaces the worker
    and the new one imports torch again) to WORKER_GROWTH_BYTES, and never lowers a larger one."""
    from joblib.externals.loky import process_executor

    from xbench.running import executor

    monkeypatch.setattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", int(3e8))
    executor.tolerate_worker_growth()
    assert process_executor._MAX_MEMORY_LEAK_SIZE == executor.WORKER_GROWTH_BYTES >= 2**30
    monkeypatch.setattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", 2**40)
    executor.tolerate_worker_growth()
    assert process_executor._MAX_MEMORY_LEAK_SIZE == 2**40


def test_run_ends_its_workers_once_every_result_is_stored(tmp_path, monkeypatch):
    """`xbench run` stops its worker processes itself after the grid (not at interpreter exit, where
    idle workers holding torch took seconds to end) — and only once every result is on disk."""
    from click.testing import CliRunner

    from xbench.cli import main
    from xbench.running import executor

    seen: list[int] = []
    real = executor.stop_local_workers

    def record() -> None:
        seen.append(len(list((tmp_path / "runs").rglob("*.json"))))
        real()

    monkeypatch.setattr(executor, "stop_local_workers", record)
    res = CliRunner().invoke(
        main, ["run", "--methods", "lsh", "--bits", "32,64", "--jobs", "2", "--results", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert seen == [2]
