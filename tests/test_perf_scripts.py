"""The speed benchmark scripts run end to end on tiny problems (their figures are not checked)."""

from __future__ import annotations

import math

from xbench.perf import budget as perf_budget
from xbench.perf import runner as perf_runner
from xbench.perf import threads as perf_threads

from .conftest import TINY


def _options() -> list[str]:
    out = []
    for key, value in TINY.items():
        out += ["--dataset-option", f"{key}={value}"]
    return out


def test_perf_threads_compares_the_policy_with_alternatives(capsys):
    assert (
        perf_threads.main(
            ["--methods", "lsh", "--bits", "16,32", "--epochs", "1", "--alternatives", "1x2", *_options()]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "policy (--jobs auto)" in out and "--jobs 1 --threads 2" in out
    assert "torch threads per cell: features 1" in out and "load average" in out


def test_perf_budget_prints_both_budgets(capsys):
    assert (
        perf_budget.main(["--methods", "bce", "--bits", "16", "--set", "bce.batch_size=64", *_options()]) == 0
    )
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("bce"))
    assert "batch_size=64" in line and line.split()[-1] in ("yes", "NO")


def test_perf_runner_prints_runner_against_bare(capsys):
    perf_runner.main(["--methods", "bce", "--bits", "16", "--epochs", "1"])
    out = capsys.readouterr().out
    assert "1 torch thread(s)" in out and "cpu ratio" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("bce")).split()
    assert len(row) == 8 and all(math.isfinite(float(v)) for v in row[1:])  # differences: any sign under load
