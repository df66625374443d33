"""The speed benchmark scripts run end to end on tiny problems (their figures are not checked)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from xbench.perf import budget as perf_budget
from xbench.perf import runner as perf_runner
from xbench.perf import startup as perf_startup
from xbench.perf import threads as perf_threads

from .conftest import TINY


def _options() -> list[str]:
    out = []
    for key, value in TINY.items():
        out += ["--dataset-option", f"{key}={value}"]
    return out


def _busy_children() -> list[int]:
    """Processes started by this test process that run the benchmark's busy loop."""
    me, out = str(os.getpid()), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")), "")
        if ppid == me and b"while True: pass" in cmdline:
            out.append(int(pid))
    return out


def test_perf_threads_compares_the_policy_idle_and_busy_in_one_command(capsys):
    args = ["--methods", "lsh", "--bits", "16,32", "--epochs", "1", "--alternatives", "1x2", *_options()]
    assert perf_threads.main(args) == 0
    out = capsys.readouterr().out
    assert "policy (--jobs auto)" in out and "--jobs 1 --threads 2" in out
    assert "torch threads per cell: features 1" in out and "load average" in out
    assert "[idle] 0 competing busy process(es)" in out and "[busy] 1 competing busy process(es)" in out
    verdicts = [ln for ln in out.splitlines() if ln.startswith("  [")]
    assert len(verdicts) == 2 and all("policy IS" in v or "policy is NOT" in v for v in verdicts)
    assert _busy_children() == []  # the competing process was stopped


def test_perf_threads_stops_an_alternative_past_its_cap():
    wall, cpu, line = perf_threads.time_grid(
        ["--methods", "lsh", "--datasets", "synthetic", "--bits", "16", "--epochs", "1"], "1", 1, limit=0.01
    )
    assert wall == math.inf and line == "stopped after 0 s"


def test_perf_startup_prints_every_command(capsys):
    assert perf_startup.main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for name in ("import click", "xbench --help", "xbench list methods", "xbench list noise"):
        assert next(ln for ln in out.splitlines() if ln.startswith(name))
    row = next(ln for ln in out.splitlines() if ln.startswith("xbench list methods"))
    assert row.split()[-1] == "no"  # listing the methods does not import torch


def test_perf_budget_prints_both_budgets(capsys):
    assert (
        perf_budget.main(["--methods", "bce", "--bits", "16", "--set", "bce.batch_size=64", *_options()]) == 0
    )
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("bce"))
    assert "batch_size=64" in line and line.split()[-1] in ("yes", "NO")


def test_perf_runner_prints_runner_against_bare(capsys):
    perf_runner.main(["--methods", "bce", "--bits", "16", "--epochs", "2", "--repeats", "2"])
    out = capsys.readouterr().out
    assert "1 torch thread(s)" in out and "runner cpu min" in out and "2 alternations" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("bce")).split()
    assert len(row) == 10 and all(math.isfinite(float(v)) and float(v) > 0 for v in row[1:])
