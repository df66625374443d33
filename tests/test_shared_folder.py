"""Several processes on one results folder: claims, stale-claim takeover, temp-file cleanup, interrupts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xbench.reporting import results as results_layer
from xbench.running import claims

from .conftest import tiny_options

HELPER = Path(__file__).with_name("_slow_xbench.py")


def _env(log: Path, sleep: float) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1",
        XBENCH_TEST_TRAIN_LOG=str(log),
        XBENCH_TEST_SLEEP=str(sleep),
        PYTHONPATH=os.pathsep.join([str(HELPER.parent.parent), env.get("PYTHONPATH", "")]),
    )
    return env


def _slow_run(results: Path, log: Path, *extra: str, sleep: float = 1.0, seeds: str = "0,1,2,3"):
    args = [
        sys.executable,
        str(HELPER),
        "run",
        "--methods",
        "test-slow",
        "--datasets",
        "synthetic",
        "--bits",
        "8",
        "--seeds",
        seeds,
        "-q",
        "--results",
        str(results),
        *tiny_options(),
        *extra,
    ]
    return subprocess.Popen(
        args, env=_env(log, sleep), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.slow
def test_two_processes_on_one_grid_train_each_cell_once(tmp_path):
    results, log = tmp_path / "results", tmp_path / "trainings.log"
    procs = [_slow_run(results, log, seeds="0,1,2,3,4,5"), _slow_run(results, log, seeds="5,4,3,2,1,0")]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    lines = log.read_text().split()
    trainings = [tuple(lines[i : i + 3]) for i in range(0, len(lines), 3)]
    cells = [(bits, seed) for _, bits, seed in trainings]
    # six cells, each trained once
    assert sorted(cells) == sorted({("8", str(s)) for s in range(6)}), trainings
    assert len({pid for pid, _, _ in trainings}) == 2, trainings  # both processes trained (they overlapped)
    stored = results_layer.scan(results).records
    assert len(stored) == 6 and all(r.status == "ok" for r in stored)
    assert not list(results.rglob("*" + claims.CLAIM_SUFFIX)) and not list(results.rglob(".tmp-*"))
    assert any("left to other processes" in out for out in outputs)


def _claim_file(path: Path, host: str, pid: int, age: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": host, "pid": pid, "token": f"t{pid}{host}", "started": "x"}))
    if age:
        t = time.time() - age
        os.utime(path, (t, t))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_claims_are_exclusive_and_stale_claims_are_taken_over(tmp_path):
    path = tmp_path / "runs" / "d" / "m" / "abc.claim"
    a, b = claims.ClaimBook(), claims.ClaimBook()
    assert a.try_claim(path) and not b.try_claim(path)  # a live claim of this process
    info = claims.read_claim(path)
    assert info["host"] == socket.gethostname() and info["pid"] == os.getpid() and info["started"]
    b.release(path)  # not b's: untouched
    assert path.exists()
    a.release(path)
    assert not path.exists()
    # a claim of a dead process on this host is taken over at once
    _claim_file(path, socket.gethostname(), _dead_pid())
    assert b.try_claim(path) and claims.read_claim(path)["pid"] == os.getpid()
    b.release(path)
    # another host's claim: kept while fresh, taken over once older than stale_after
    _claim_file(path, "some-other-node", 12345)
    assert not claims.ClaimBook(stale_after=60).try_claim(path)
    _claim_file(path, "some-other-node", 12345, age=120)
    book = claims.ClaimBook(stale_after=60)
    assert book.try_claim(path)
    book.release(path)


def test_heartbeat_keeps_a_claim_fresh(tmp_path):
    path = tmp_path / "x.claim"
    with claims.ClaimBook(stale_after=0.4, heartbeat=0.05) as book:
        assert book.try_claim(path)
        t = time.time() - 10
        os.utime(path, (t, t))
        time.sleep(0.3)
        assert time.time() - path.stat().st_mtime < 1  # renewed
    assert not path.exists()  # released on exit


def test_run_skips_a_cell_claimed_by_a_live_process_and_takes_a_dead_ones(cli, tmp_path):
    from xbench.running import executor

    args = [
        "run",
        "--methods",
        "lsh",
        "--datasets",
        "synthetic",
        "--bits",
        "8,16",
        "-q",
        "--results",
        tmp_path,
        *tiny_options(),
    ]
    (cell8, cell16), _ = _planned(tmp_path, args)
    _claim_file(executor.claim_path(tmp_path, cell8), "other-node", 1)  # fresh claim elsewhere
    _claim_file(executor.claim_path(tmp_path, cell16), socket.gethostname(), _dead_pid())  # crashed here
    res = cli(*args)
    assert res.exit_code == 0, res.output
    assert "1 run(s) ok" in res.output and "1 left to other processes" in res.output
    assert {r.bits for r in results_layer.scan(tmp_path).records} == {16}


def _planned(results: Path, args: list):
    from xbench.running import executor, grid

    specs = grid.build_specs(
        None,
        {
            "methods": "lsh",
            "datasets": "synthetic",
            "bits": "8,16",
            "dataset_options": {
                k: int(v) if v.isdigit() else v for k, v in (o.split("=") for o in tiny_options()[1::2])
            },
        },
    )
    configs = [executor.normalize(c) for c in grid.expand(specs[0])]
    return executor.plan(configs, results, ["cpu"])


def test_stale_temp_files_are_removed_and_others_kept(tmp_path):
    folder = tmp_path / "runs" / "d" / "m"
    folder.mkdir(parents=True)
    dead = folder / f".tmp-{_dead_pid()}-{claims.host_tag()}-abc.json"
    old = folder / ".tmp-oldstyle.npz"
    live = folder / f"{claims.temp_prefix()}xyz.json"  # this (live) process's write in progress
    mine = folder / "keep.json"
    for p in (dead, old, live, mine):
        p.write_text("x")
    t = time.time() - 7200
    os.utime(old, (t, t))
    os.utime(mine, (t, t))
    removed = claims.clean_temp_files(tmp_path, before=time.time() + 1)
    assert set(removed) == {dead, old}
    assert live.exists() and mine.exists()
    # nothing newer than the run's start is touched
    fresh = folder / f".tmp-{_dead_pid()}-{claims.host_tag()}-new.json"
    fresh.write_text("x")
    assert claims.clean_temp_files(tmp_path, before=time.time() - 60) == []


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_interrupted_parallel_grid_leaves_no_workers(tmp_path, sig):
    args = [
        sys.executable,
        "-m",
        "xbench",
        "run",
        "--methods",
        "bce",
        "--datasets",
        "synthetic",
        "--bits",
        "16",
        "--seeds",
        "0,1,2",
        "--epochs",
        "50000",
        "-q",
        "--jobs",
        "2",
        "--results",
        str(tmp_path / "results"),
        *tiny_options(),
    ]
    proc = subprocess.Popen(
        args, env=_env(tmp_path / "log", 0), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(_children(proc.pid)) < 2:
        time.sleep(0.2)
    time.sleep(3)  # the workers are training
    workers = _children(proc.pid)
    assert len(workers) >= 2
    proc.send_signal(sig)
    proc.wait(timeout=60)
    deadline = time.time() + 20
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(workers)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert not list((tmp_path / "results").rglob("*" + claims.CLAIM_SUFFIX))  # claims released
