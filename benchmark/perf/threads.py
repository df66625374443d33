"""Thread-policy benchmark: ``python -m xbench.perf.threads`` (issue 13 item 1; a benchmark, not a test).

Shows, in one command, whether ``xbench run``'s thread policy (:mod:`xbench.running.threads`:
``--jobs auto``, one torch thread per features-mode cell, cells in parallel up to the usable
cores) is the fastest of the alternatives ``--jobs J --threads T`` (J, T ∈ {1, 2} by default) on
this machine, in two scenarios:

* ``idle`` — nothing else started by the script;
* ``busy`` — one competing busy process (a pure-Python loop, as another user's job would be),
  which the script starts before the scenario's measurements and stops after them.

Every measurement is the same features-mode grid on ``synthetic`` with the main job's default
noise (default: dcmh and mrl × 32 and 64 bits, 20 epochs: 4 balanced cells of ≈ 8 s of CPU each,
long enough for the extra torch imports of worker processes to be repaid, as the main job's cells
— seconds to minutes each — repay them), run as a whole ``xbench run`` process from an empty
results folder. In each scenario the policy runs first, then the alternatives (in turn, round-robin
when ``--repeat`` > 1, the best run kept); an alternative still running after ``--cap`` times the
policy's time (default 2.5×, at least 30 s) is stopped and shown as ``> cap`` — it is slower than
the policy whatever its end. ``OMP_NUM_THREADS`` is removed from the children's environment so that
the policy's own default applies. It prints, per scenario, wall and CPU seconds (the run and its
worker processes) of each configuration, its ratio to the fastest, and whether the policy is the
fastest within ``--tolerance`` (default 10 %).

Expected duration on an idle 2-core machine: about 5 minutes with the defaults (estimated from
CPU times measured under load: policy ≈ 22 s, one job ≈ 37 s idle; ≈ 32 s and 37 s with the busy
process), at most ≈ 7.5 minutes (the caps bound the two-thread alternatives). The load average before and after each scenario is
printed: figures from a machine that other people's jobs share are not idle figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

SCENARIOS = {"idle": 0, "busy": 1}  # scenario → competing busy processes


@dataclass
class Measurement:
    label: str
    jobs: str
    threads: int | None
    wall: float = float("inf")
    cpu: float = float("nan")
    resolved: str = ""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)
    return env


def time_grid(
    grid: list[str], jobs: str, threads: int | None, limit: float | None = None
) -> tuple[float, float, str]:
    """Wall and CPU seconds (the process and its reaped workers) of one ``xbench run`` of ``grid``.

    A run still going after ``limit`` seconds is stopped (with its workers) and reported as
    (inf, nan, "stopped after LIMIT s")."""
    with tempfile.TemporaryDirectory(prefix="xbench-perf-threads-") as tmp:
        cmd = [sys.executable, "-m", "xbench", "run", *grid, "--results", tmp, "-q", "--jobs", jobs]
        if threads:
            cmd += ["--threads", str(threads)]
        err_path = os.path.join(tmp, "stderr.txt")
        with open(err_path, "wb") as err:
            u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err, env=_env(), start_new_session=True
            )
            try:
                proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker processes
                proc.wait()
                return float("inf"), float("nan"), f"stopped after {limit:.0f} s"
            wall = time.perf_counter() - t0
            u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(err_path, encoding="utf-8", errors="replace") as fh:
            stderr = fh.read()
    if proc.returncode != 0:
        raise SystemExit(f"xbench run failed ({' '.join(cmd)}):\n{stderr.strip()[-2000:]}")
    line = next((ln for ln in stderr.splitlines() if ln.startswith("threads:")), "")
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    return wall, cpu, line.removeprefix("threads: ")


def run_scenario(
    busy: int, grid: list[str], configs: list[Measurement], repeat: int, cap: float
) -> tuple[list[Measurement], float, float]:
    """Measure every configuration with ``busy`` competing processes running; the best of ``repeat``.

    The policy (first configuration) runs first; an alternative still running after ``cap`` times
    the policy's best wall time (at least 30 s) is stopped: it is slower than the policy anyway."""
    rows = [Measurement(c.label, c.jobs, c.threads) for c in configs]
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        load0 = os.getloadavg()[0]
        for _ in range(max(1, repeat)):
            for i, row in enumerate(rows):
                limit = None if i == 0 else max(30.0, cap * rows[0].wall)
                wall, cpu, line = time_grid(grid, row.jobs, row.threads, limit)
                if wall < row.wall:
                    row.wall, row.cpu, row.resolved = wall, cpu, line
        load1 = os.getloadavg()[0]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return rows, load0, load1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xbench.perf.threads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="dcmh,mrl", help="methods of the grid (default: dcmh,mrl)")
    ap.add_argument("--bits", default="32,64", help="code lengths of the grid (default: 32,64)")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per cell (default 20)")
    ap.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="options of the synthetic dataset (repeatable), e.g. num_items=3000",
    )
    ap.add_argument(
        "--alternatives",
        default="1x1,1x2,2x1,2x2",
        help="JOBSxTHREADS configurations compared with the policy (default: 1x1,1x2,2x1,2x2)",
    )
    ap.add_argument(
        "--scenarios",
        default="idle,busy",
        help="comma list of idle (nothing started) and busy (one competing busy process); default both",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration (the best is kept)")
    ap.add_argument(
        "--tolerance", type=float, default=0.10, help="the policy counts as fastest within this fraction"
    )
    ap.add_argument(
        "--cap",
        type=float,
        default=2.5,
        help="stop an alternative after this many times the policy's wall time (default 2.5)",
    )
    args = ap.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        ap.error(f"--scenarios: expected a comma list of {', '.join(SCENARIOS)}, got {args.scenarios!r}")
    grid = [
        "--methods",
        args.methods,
        "--datasets",
        "synthetic",
        "--bits",
        args.bits,
        "--epochs",
        str(args.epochs),
    ]
    for opt in args.dataset_option:
        grid += ["--dataset-option", opt]
    configs = [Measurement("policy (--jobs auto)", "auto", None)]
    for alt in [a.strip() for a in args.alternatives.split(",") if a.strip()]:
        j, _, t = alt.partition("x")
        if not (j.isdigit() and t.isdigit() and int(j) > 0 and int(t) > 0):
            ap.error(f"--alternatives: expected JOBSxTHREADS items such as 2x1, got {alt!r}")
        configs.append(Measurement(f"--jobs {j} --threads {t}", j, int(t)))
    t_start = time.perf_counter()
    print(f"xbench.perf.threads: xbench run {' '.join(grid)}")
    print(f"{os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable; OMP_NUM_THREADS unset in the runs")
    verdicts = []
    for name in scenarios:
        rows, load0, load1 = run_scenario(SCENARIOS[name], grid, configs, args.repeat, args.cap)
        best = min(r.wall for r in rows)
        policy = rows[0]
        print(
            f"\n[{name}] {SCENARIOS[name]} competing busy process(es); "
            f"load average (1 min) before/after: {load0:.2f} / {load1:.2f}"
        )
        print(f"{'configuration':<26} {'wall s':>8} {'cpu s':>8} {'vs best':>8}  resolved")
        for r in rows:
            wall = f"{r.wall:8.1f}" if r.wall < float("inf") else f"{'> cap':>8}"
            ratio = (
                f"{r.wall / best:7.2f}x" if r.wall < float("inf") else f"{'>' + format(args.cap, '.0f'):>7}x"
            )
            print(f"{r.label:<26} {wall} {r.cpu:8.1f} {ratio}  {r.resolved}")
        ok = policy.wall <= best * (1 + args.tolerance)
        fastest_alt = min(rows[1:], key=lambda r: r.wall, default=None)
        verdict = (
            f"[{name}] policy {'IS' if ok else 'is NOT'} the fastest within {args.tolerance:.0%}: "
            f"{policy.wall:.1f} s vs best alternative "
            + (f"{fastest_alt.label} {fastest_alt.wall:.1f} s" if fastest_alt else "(none)")
        )
        print(verdict)
        verdicts.append(verdict)
    print(f"\nsummary (total {time.perf_counter() - t_start:.0f} s):")
    for v in verdicts:
        print("  " + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
