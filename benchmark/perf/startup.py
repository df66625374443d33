"""Start-up benchmark: ``python -m xbench.perf.startup`` (issue 13 item 4; a benchmark, not a test).

Times short ``xbench`` commands as whole processes, spawn to exit, against the floor
``python -c "import click"`` (the interpreter and the CLI library alone): ``--help``,
``--version``, ``list`` (every section), ``list methods``, ``list datasets``, ``list noise`` and
``evaluate --help``. Each command runs ``--repeat`` times (default 7), interleaved so that a
drift of the machine's load hits every command alike; the median wall and CPU (user + system)
seconds are printed with their excess over the floor (goal: within 0.3 s), and whether the
process imported torch (checked separately, with ``python -X importtime``).

The load average before and after is printed: on a shared machine the wall times are mostly
waiting for a core and only the CPU times compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

FLOOR = ("import click", [sys.executable, "-c", "import click"])


def commands() -> list[tuple[str, list[str]]]:
    xb = [sys.executable, "-m", "xbench"]
    return [
        FLOOR,
        ("xbench --help", [*xb, "--help"]),
        ("xbench --version", [*xb, "--version"]),
        ("xbench list", [*xb, "list"]),
        ("xbench list methods", [*xb, "list", "methods"]),
        ("xbench list datasets", [*xb, "list", "datasets"]),
        ("xbench list noise", [*xb, "list", "noise"]),
        ("xbench evaluate --help", [*xb, "evaluate", "--help"]),
    ]


def time_once(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` (its output discarded)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit status {os.waitstatus_to_exitcode(status)})")
    return wall, usage.ru_utime + usage.ru_stime


def imports_torch(cmd: list[str]) -> bool:
    """Whether ``cmd`` imports torch (``-X importtime`` lists every module imported)."""
    res = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, check=False)
    return any(line.split("|")[-1].strip() == "torch" for line in res.stderr.splitlines())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xbench.perf.startup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs of each command (the median is shown)")
    args = ap.parse_args(argv)
    cmds = commands()
    load0 = os.getloadavg()[0]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in cmds}
    for _ in range(max(1, args.repeat)):
        for name, cmd in cmds:
            times[name].append(time_once(cmd))
    load1 = os.getloadavg()[0]
    med = {
        n: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for n, v in times.items()
    }
    floor_wall, floor_cpu = med[FLOOR[0]]
    print(f"xbench.perf.startup: median of {args.repeat} runs per command, interleaved")
    print(f"load average (1 min) before/after: {load0:.2f} / {load1:.2f} on {os.cpu_count()} CPUs")
    print(f"{'command':<26} {'wall s':>7} {'cpu s':>7} {'+wall s':>8} {'+cpu s':>7}  torch")
    for name, cmd in cmds:
        wall, cpu = med[name]
        torch = "-" if name == FLOOR[0] else ("yes" if imports_torch(cmd) else "no")
        print(f"{name:<26} {wall:7.3f} {cpu:7.3f} {wall - floor_wall:+8.3f} {cpu - floor_cpu:+7.3f}  {torch}")
    worst = max(med[n][0] - floor_wall for n, _ in cmds[1:])
    print(f"largest excess over `import click`: {worst:.3f} s wall (goal ≤ 0.3 s on an idle machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
