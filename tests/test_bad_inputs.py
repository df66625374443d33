"""Bad input is refused before any training: exit status 2, one ``Error:`` line per problem, no
traceback, and nothing on disk changes (the results folder is compared before and after)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from xbench.cli import main

from .conftest import TINY, tiny_options


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def world(tmp_path):
    """A results folder holding one (fake) stored run, plus files the cases point at."""
    results = tmp_path / "results"
    run_dir = results / "runs" / "synthetic" / "lsh"
    run_dir.mkdir(parents=True)
    (run_dir / "0123456789abcdef.json").write_text(
        json.dumps({"run_id": "0123456789abcdef", "status": "ok", "config": {"method": "lsh"}})
    )
    (tmp_path / "not-utf8.toml").write_bytes(b'methods = ["lsh"]\n# \xff\xfe caf\xe9\n')
    (tmp_path / "set5.toml").write_text("set = 5\n")
    (tmp_path / "split5.toml").write_text("split_file = 5\n")
    (tmp_path / "npm.toml").write_text('noise_per_modality = "no"\n')
    (tmp_path / "floatbits.toml").write_text("bits = [16.5]\n")
    (tmp_path / "boolbits.toml").write_text("bits = [true]\n")
    (tmp_path / "floatseeds.toml").write_text("seeds = [1.5]\n")
    (tmp_path / "group5.toml").write_text("[groups]\nsmall = 5\n")
    (tmp_path / "setlist.toml").write_text("set = [5]\n")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "split.txt").write_text("not a split")
    np.savez(
        tmp_path / "wrong-split.npz",
        query=np.arange(3),
        train=np.arange(3, 10),
        database=np.arange(3, 20),
        num_items=np.int64(20),
    )
    np.savez(
        tmp_path / "nolabels.npz", image=np.zeros((30, 4), np.float32), text=np.zeros((30, 5), np.float32)
    )
    return tmp_path


RUN_CASES = {
    "epochs 0": (["--epochs", "0"], "--epochs"),
    "epochs -1": (["--epochs", "-1"], "--epochs"),
    "mrl batch -3": (["--methods", "mrl", "--set", "mrl.batch_size=-3"], "batch_size: expected a value ≥ 1"),
    "ssah batch -3": (["--methods", "ssah", "--set", "ssah.batch_size=-3"], "ssah.batch_size"),
    "batch inf": (["--methods", "cmmq", "--set", "cmmq.batch_size=inf"], "cmmq.batch_size"),
    "lr nan": (["--methods", "mrl", "--set", "mrl.lr=nan"], "mrl.lr"),
    "misspelt method in --set": (["--set", "lhs.center=true"], "unknown method 'lhs'"),
    "unknown parameter": (["--set", "lsh.colour=1"], "unknown hyperparameter 'colour'"),
    "bool hyper": (["--set", "lsh.center=maybe"], "lsh.center"),
    "float bits": (["--bits", "16.5"], "--bits: must be an integer"),
    "bool bits": (["--bits", "true"], "--bits: must be an integer"),
    "zero bits": (["--bits", "0"], "--bits"),
    "huge bits": (["--methods", "cmmq", "--bits", "131072"], "at most 4096 bits"),
    "cca components beyond the text features": (
        ["--methods", "lsh,cca", "--bits", "8,300"],
        "--methods cca --bits 300 on synthetic: cca: 300 components requested but at most",
    ),
    "float seed": (["--seeds", "1.5"], "--seeds: must be an integer"),
    "negative seed": (["--seeds", "-1"], "--seeds"),
    "topk 0": (["--topk", "0"], "--topk"),
    "topk word": (["--topk", "many"], "topk"),
    "topk beyond database": (["--topk", "100000"], "database items"),
    "assumed rate 1.5": (["--assumed-noise-rate", "1.5"], "--assumed-noise-rate"),
    "assumed rate -0.1": (["--assumed-noise-rate", "-0.1"], "--assumed-noise-rate"),
    "noise rate": (["--noise", "symmetric:1.2"], "rate must be in [0, 1)"),
    "noise type": (["--noise", "weird:0.1"], "unknown noise model 'weird'"),
    "loss epoch 0": (["--loss-epochs", "0"], "--loss-epochs"),
    "loss epoch after the end": (["--epochs", "2", "--loss-epochs", "3"], "--loss-epochs"),
    "eval every -1": (["--eval-every", "-1"], "--eval-every"),
    "jobs 0": (["--jobs", "0"], "--jobs"),
    "stale-after 0": (["--stale-after", "0"], "--stale-after"),
    "dataset option value": (["--dataset-option", "num_classes=-4"], "--datasets synthetic"),
    "dataset option name": (["--dataset-option", "colour=red"], "unknown option"),
    "missing split file": (["--split-file", "{w}/none.npz"], "no such file"),
    "unreadable split file": (["--split-file", "{w}/split.txt"], "split.txt"),
    "split for another size": (["--split-file", "{w}/wrong-split.npz"], "wrong-split.npz"),
    "files: missing": (["--datasets", "files:{w}/absent.npz"], "absent.npz"),
    "files: without labels": (["--datasets", "files:{w}/nolabels.npz"], "nolabels.npz"),
    "results under a file": (["--results", "{w}/a-file/results"], "is a file"),
    "non-UTF-8 TOML": (["--config", "{w}/not-utf8.toml"], "not UTF-8"),
    "TOML set = 5": (["--config", "{w}/set5.toml"], "'set' must be"),
    "TOML set = [5]": (["--config", "{w}/setlist.toml"], "'set'"),
    "TOML split_file = 5": (["--config", "{w}/split5.toml"], "'split_file' must be a path"),
    "TOML noise_per_modality = 'no'": (["--config", "{w}/npm.toml"], "must be true or false"),
    "TOML float bits": (["--config", "{w}/floatbits.toml"], "'bits' must be an integer"),
    "TOML bool bits": (["--config", "{w}/boolbits.toml"], "'bits' must be an integer"),
    "TOML float seeds": (["--config", "{w}/floatseeds.toml"], "'seeds' must be an integer"),
    "TOML group not a table": (["--config", "{w}/group5.toml"], "[groups.small] must be a table"),
}


def _invoke(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _assert_refused(res, needle: str, lines: int | None = 1) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    out = [line for line in res.output.splitlines() if line.strip()]
    assert out and all(line.startswith("Error: ") for line in out), res.output
    if lines is not None:
        assert len(out) == lines, res.output
    assert needle in res.output, res.output


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_run_refuses_before_training(world, case):
    extra, needle = RUN_CASES[case]
    extra = [a.replace("{w}", str(world)) for a in extra]
    base = {
        "--methods": "lsh",
        "--datasets": "synthetic",
        "--bits": "16",
        "--results": str(world / "results"),
    }
    for key in list(base):
        if key in extra:
            base.pop(key)
    if "--config" in extra or any(a.startswith("files:") for a in extra):  # no synthetic options here
        base = {"--results": base.get("--results", str(world / "results"))}
        opts = []
    else:
        opts = tiny_options()  # a later --dataset-option of the same key wins
    args = ["run", *[x for kv in base.items() for x in kv], *opts, *extra]
    before = _snapshot(world)
    res = _invoke(args)
    _assert_refused(res, needle)
    assert _snapshot(world) == before


def test_all_problems_reported_one_line_each(world):
    before = _snapshot(world)
    res = _invoke(
        [
            "run",
            "--methods",
            "lsh",
            "--datasets",
            "synthetic",
            "--results",
            str(world / "results"),
            "--epochs",
            "0",
            "--seeds",
            "-1",
            "--set",
            "lhs.x=1",
            "--topk",
            "0",
            *tiny_options(),
        ]
    )
    _assert_refused(res, "--epochs", lines=4)
    assert _snapshot(world) == before


def _codes(path: Path, q_labels, db_labels, compressed: bool = False) -> Path:
    rng = np.random.default_rng(0)
    save = np.savez_compressed if compressed else np.savez
    save(
        path,
        query_codes=np.sign(rng.standard_normal((len(q_labels), 8))),
        db_codes=np.sign(rng.standard_normal((len(db_labels), 8))),
        query_labels=q_labels,
        db_labels=db_labels,
    )
    return path


def _damaged(path: Path) -> Path:
    rng = np.random.default_rng(1)
    np.savez_compressed(
        path,
        query_codes=np.sign(rng.standard_normal((400, 64))),
        db_codes=np.sign(rng.standard_normal((400, 64))),
        query_labels=np.zeros(400),
        db_labels=np.zeros(400),
    )
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 40):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


EVALUATE_CASES = {
    "infinite class index": (lambda w: [_codes(w / "c.npz", np.full(4, np.inf), np.zeros(6))], "finite"),
    "huge class index": (lambda w: [_codes(w / "c.npz", np.full(4, 1e30), np.full(6, 1e30))], "at most"),
    "negative class index": (lambda w: [_codes(w / "c.npz", np.full(4, -1.0), np.zeros(6))], "non-negative"),
    "damaged compressed npz": (lambda w: [_damaged(w / "z.npz")], "z.npz"),
    "missing file": (lambda w: [w / "absent.npz"], "no such file"),
    "output under a file": (
        lambda w: [_codes(w / "c.npz", np.zeros(4), np.zeros(6)), "-o", w / "a-file" / "out.json"],
        "is a file",
    ),
    "output is a folder": (lambda w: [_codes(w / "c.npz", np.zeros(4), np.zeros(6)), "-o", w], "is a folder"),
    "topk 0": (lambda w: [_codes(w / "c.npz", np.zeros(4), np.zeros(6)), "--topk", "0"], "--topk"),
}


@pytest.mark.parametrize("case", list(EVALUATE_CASES))
def test_evaluate_refuses(world, case):
    make, needle = EVALUATE_CASES[case]
    args = [str(a) for a in make(world)]
    before = _snapshot(world)
    _assert_refused(_invoke(["evaluate", *args]), needle)
    assert _snapshot(world) == before


def test_baseline_with_bad_seeds(world):
    baseline = world / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "format": "xbench-baseline",
                "version": 1,
                "metric": "map",
                "cells": [
                    {
                        "method": "lsh",
                        "dataset": "synthetic",
                        "bits": 16,
                        "noise": "none",
                        "task": "i2t",
                        "value": 0.5,
                        "seeds": ["a"],
                    }
                ],
            }
        )
    )
    before = _snapshot(world)
    res = _invoke(["check", "--baseline", str(baseline), "--results", str(world / "results")])
    _assert_refused(res, "'seeds' must be a list of integers")
    assert _snapshot(world) == before


def test_tiny_options_are_valid(world):
    """The base of every case above passes the checks (so each case fails for its own reason)."""
    res = _invoke(
        [
            "run",
            "--methods",
            "lsh",
            "--datasets",
            "synthetic",
            "--bits",
            "16",
            "--dry-run",
            "--results",
            str(world / "results"),
            *tiny_options(),
        ]
    )
    assert res.exit_code == 0, res.output
    assert TINY["num_classes"] == 8
