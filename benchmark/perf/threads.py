"""Thread-policy benchmark: ``python -m xbench.perf.threads`` (issue 13 item 1; a benchmark, not a test).

Times the same small ``xbench run`` grid (features mode, on ``synthetic``) as a whole process
under the default policy (``--jobs auto``, one torch thread per features-mode cell; see
:mod:`xbench.running.threads`) and under the alternatives ``--jobs J --threads T`` for J, T ∈ {1, 2}
(or the given ``--alternatives``). Every configuration starts from an empty results folder.
``OMP_NUM_THREADS`` is removed from the children's environment so that the policy's own default
applies (an explicit ``OMP_NUM_THREADS`` would override it). With ``--busy N``, N competing
busy processes (a pure-Python loop each) run during every measurement, as another user's job would.

The load average before and after is printed: figures from a shared machine are not idle figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(var, None)
    return env


def time_grid(grid: list[str], jobs: str, threads: int | None) -> tuple[float, str]:
    """Wall seconds of one ``xbench run`` of ``grid`` (fresh results folder) and its thread line."""
    with tempfile.TemporaryDirectory(prefix="xbench-perf-threads-") as tmp:
        cmd = [sys.executable, "-m", "xbench", "run", *grid, "--results", tmp, "-q", "--jobs", jobs]
        if threads:
            cmd += ["--threads", str(threads)]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
        wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"xbench run failed ({' '.join(cmd)}):\n{res.stderr.strip()[-2000:]}")
    line = next((ln for ln in res.stderr.splitlines() if ln.startswith("threads:")), "")
    return wall, line.removeprefix("threads: ")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xbench.perf.threads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="dcmh,cmhh", help="methods of the grid (default: dcmh,cmhh)")
    ap.add_argument("--bits", default="32,64", help="code lengths of the grid (default: 32,64)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per cell (default 3)")
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
    ap.add_argument("--busy", type=int, default=0, help="competing busy processes during each measurement")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each configuration (the best is shown)")
    args = ap.parse_args(argv)
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
    configs: list[tuple[str, str, int | None]] = [("policy (--jobs auto)", "auto", None)]
    for alt in [a.strip() for a in args.alternatives.split(",") if a.strip()]:
        j, _, t = alt.partition("x")
        configs.append((f"--jobs {j} --threads {t}", j, int(t)))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(0, args.busy))]
    try:
        load0 = os.getloadavg()[0]
        rows = []
        for label, jobs, threads in configs:
            runs = [time_grid(grid, jobs, threads) for _ in range(max(1, args.repeat))]
            wall, line = min(runs)
            rows.append((label, wall, line))
        load1 = os.getloadavg()[0]
    finally:
        for p in busy:
            p.kill()
            p.wait()
    print(f"xbench.perf.threads: xbench run {' '.join(grid)}")
    print(
        f"{os.cpu_count()} CPUs; {args.busy} competing busy process(es); "
        f"load average (1 min) before/after: {load0:.2f} / {load1:.2f}"
    )
    best = min(r[1] for r in rows)
    print(f"{'configuration':<28} {'wall s':>8} {'vs best':>8}  resolved")
    for label, wall, line in rows:
        print(f"{label:<28} {wall:8.1f} {wall / best:7.2f}x  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
