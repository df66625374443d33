"""The evaluator benchmark (`python -m xbench.perf`): its reference and a tiny end-to-end run."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from xbench.evaluating import metrics
from xbench.perf import evaluator as perf


def test_reference_equals_fast_evaluator_and_data_are_deterministic():
    p = perf.Problem(queries=25, database=900, bits=32, labels=6, topk=100, seed=3)
    qc, dc, ql, dl = perf.make_data(p)
    again = perf.make_data(p)
    assert all(np.array_equal(a, b) for a, b in zip((qc, dc, ql, dl), again, strict=False))
    assert qc.dtype == np.int8 and set(np.unique(qc)) == {-1, 1} and ql.sum(axis=1).min() >= 1
    for block in (0, 7):
        ref = perf.reference_average_precisions(qc, dc, ql, dl, p.topk, block=block)
        np.testing.assert_allclose(
            ref, metrics.average_precisions(qc, dc, ql, dl, topk=p.topk), rtol=0, atol=1e-12
        )


def test_tiny_run_reports_agreement(tmp_path, capsys, monkeypatch):
    """The orchestration with workers run in-process (the subprocess path is checked below)."""

    def in_process(kind, args, out):
        p = perf.Problem(args.queries, args.database, args.bits, args.labels, args.topk, args.seed)
        return perf.worker(kind, p, str(out), args.reference_block, args.device, args.threads)

    monkeypatch.setattr(perf, "_spawn", in_process)
    out = tmp_path / "perf.json"
    code = perf.main(
        ["--queries", "20", "--database", "600", "--bits", "16", "--topk", "50", "--json", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "speed-up" in text and "OK" in text and "MISMATCH" not in text
    summary = json.loads(out.read_text())
    assert summary["map_max_abs_diff"] <= 1e-9 and summary["full_max_abs_diff"] <= 1e-9
    assert {r["kind"] for r in summary["rows"]} == {"reference", "map", "full", "cli", "startup"}
    assert summary["cli_map_abs_diff"] <= 1e-12 and "whole process" in text


def test_module_runs_as_a_worker_subprocess(tmp_path):
    out = tmp_path / "ap.npy"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "xbench.perf",
            "--worker",
            "reference",
            "--worker-out",
            str(out),
            "--queries",
            "5",
            "--database",
            "300",
            "--bits",
            "16",
            "--topk",
            "20",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    assert figures["kind"] == "reference" and figures["wall_s"] >= 0
    assert np.load(out).shape == (5,)
