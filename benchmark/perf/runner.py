"""Runner benchmark: seconds per epoch of each method under ``xbench run`` vs a bare loop (issue 13 item 6).

Run as ``python -m xbench.perf.runner [--methods all] [--epochs 3] [--bits 64] [--threads 1] [--ci]``.
For every method on ``synthetic`` (features mode), at one torch thread by default, it prints

* ``bare``: a bare PyTorch loop — the method's own ``fit_epoch`` (its model, loss and optimiser)
  called epoch after epoch on tensors prepared once, after the same seeding, so the same model,
  data and batch order as the run; the floor of a training epoch;
* ``runner``: the per-epoch time of the same run inside :func:`xbench.running.runner.execute` — its
  training loop with the runner's per-epoch work (history, non-finite checks, label-correction
  statistics), from ``timings["train"]``;
* ``ratio``: runner / bare (goal ≤ 1.1);
* ``bare cpu``, ``runner cpu``, ``cpu ratio``: the same in CPU seconds of this process, far
  steadier than wall time on a loaded machine.

After one warm-up epoch (the process's first-call allocations), each side runs E and 2E epochs
from scratch; the per-epoch figure is the difference divided by E, so setup and the final
evaluation cancel.

With ``--ci`` it also times ``xbench run --config results/experiments/ci.toml`` with
``--jobs 1`` and ``--jobs 2`` (fresh results folders). Figures depend on the machine's load:
the load average is printed with them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def measure(method: str, bits: int, epochs: int, noise: str = "symmetric:0.6") -> dict[str, float]:
    from xbench import methods
    from xbench.running.config import RunConfig
    from xbench.running.runner import (
        execute,
        prepare,
        problem_shape,
        seed_everything,
    )

    config = RunConfig(method=method, dataset="synthetic", bits=bits, noise=noise, epochs=epochs)
    dev = torch.device("cpu")
    seed_everything(config.seed)
    prep = prepare(config, "data", dev)
    cls = methods.get(method)

    def bare_loop(n: int) -> tuple[float, float, int]:
        """``n`` epochs of a fresh model's own fit_epoch (after the run's seeding): wall s, CPU s, batch."""
        seed_everything(config.seed)
        prep.train.epochs = n  # the typed budget, as the runner sets it
        model = cls(problem_shape(prep.data, len(prep.train)), bits, device=dev, seed=config.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        for epoch in range(n):
            model.train()
            model.fit_epoch(prep.train, epoch)
        return time.perf_counter() - t0, time.process_time() - c0, int(model.hp.get("batch_size", 0))

    def runner_loop(n: int) -> tuple[float, float]:
        """A run of ``n`` epochs through execute: its training-loop wall s and the process's CPU s."""
        c0 = time.process_time()
        result = execute(dataclasses.replace(config, epochs=n), data_root="data", device="cpu")
        if result.status != "ok":
            raise RuntimeError(f"{method}: {result.error}")
        return result.timings["train"], time.process_time() - c0

    # E and 2E epochs each: the differences, divided by E, cancel setup and evaluation; one epoch
    # first pays the process's one-off warm-up (first-call allocations, kernel selection)
    bare_loop(1)
    (bw1, bc1, batch), (bw2, bc2, _) = bare_loop(epochs), bare_loop(2 * epochs)
    (rw1, rc1), (rw2, rc2) = runner_loop(epochs), runner_loop(2 * epochs)
    return {
        "bare": (bw2 - bw1) / epochs,
        "runner": (rw2 - rw1) / epochs,
        "bare_cpu": (bc2 - bc1) / epochs,
        "runner_cpu": (rc2 - rc1) / epochs,
        "batch": batch,
    }


def time_ci(jobs: int) -> float:
    root = Path(__file__).resolve().parents[1] / "results" / "experiments" / "ci.toml"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "xbench",
                "run",
                "--config",
                str(root),
                "--results",
                tmp,
                "--jobs",
                str(jobs),
                "-q",
            ],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    from xbench import methods
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="all")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0: torch's default)")
    ap.add_argument("--ci", action="store_true", help="also time ci.toml with --jobs 1 and --jobs 2")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [m for m in methods.registry.select(args.methods) if m != "lsh"]
    load0 = os.getloadavg()[0]
    print(
        f"synthetic (features mode), {args.bits} bits, {args.epochs} epochs, "
        f"{torch.get_num_threads()} torch thread(s); seconds per epoch; load average {load0:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"{'method':<10} {'batch':>5} {'bare':>8} {'runner':>8} {'ratio':>6} {'bare cpu':>9} {'runner cpu':>10} "
        f"{'cpu ratio':>9}"
    )
    for name in names:
        m = measure(name, args.bits, args.epochs)
        print(
            f"{name:<10} {m['batch']:>5} {m['bare']:>8.3f} {m['runner']:>8.3f} {m['runner'] / m['bare']:>6.2f} "
            f"{m['bare_cpu']:>9.3f} {m['runner_cpu']:>10.3f} {m['runner_cpu'] / m['bare_cpu']:>9.2f}",
            flush=True,
        )
    if args.ci:
        t1, t2 = time_ci(1), time_ci(2)
        print(f"ci.toml wall time: --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s (speed-up {t1 / t2:.2f}x)")


if __name__ == "__main__":
    main()
