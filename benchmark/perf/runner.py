"""Runner benchmark: seconds per epoch of each method under ``xbench run`` vs a bare loop (issue 13 item 6).

Run as ``python -m xbench.perf.runner [--methods all] [--epochs 5] [--repeats 5] [--bits 64]
[--threads 1] [--ci]``. For every trained method on ``synthetic`` (features mode; ``lsh``, ``cca``
and ``pls`` have no training epochs), at one torch thread by default, it compares two ways of
training the same model on the same data in the same batch order (both start from the run's
seeding, so the models, noisy labels and batch orders are identical):

* ``bare``: a bare PyTorch loop over tensors prepared once — per epoch the method's own
  epoch-level steps (learning rate, ``begin_epoch``), then for each mini-batch of the seeded
  order its ``batch_loss``, ``zero_grad``, ``backward`` and ``step``, then ``end_epoch``. Nothing
  is logged. Methods with their own ``train_epoch`` (alternating optimisation: dcmh, prdh, ssah)
  run it, as that is their loop;
* ``runner``: a run inside :func:`xbench.running.runner.execute` — the base class's epoch template
  (:meth:`Hasher.fit_epoch`: logging of every loss term) and the runner's per-epoch work
  (history, non-finite checks, label-correction and selection statistics).

Each epoch is timed on its own (the runner's epoch k is the interval between the starts of its
epochs k and k+1, so its per-epoch work is included; setup and the final evaluation are not),
epochs 1 … E−1 of each repetition (epoch 0 pays first-call allocations). The two sides alternate ``--repeats`` times, so
a change of the machine's load hits both. Printed per side: the minimum and the median over all
timed epochs of the CPU time of this process (``time.process_time``; far steadier than wall time
on a loaded machine) and the median wall time; ``ratio`` = runner / bare of the CPU minima and of
the CPU medians (goal ≤ 1.1).

With ``--ci`` it also times ``xbench run --config results/experiments/ci.toml`` with ``--jobs 1``
and ``--jobs 2`` (fresh results folders). The load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import torch

NO_EPOCHS = ("lsh", "cca", "pls")  # fitted once: no training epochs to time


def bare_epochs(model, data, epochs: int) -> list[tuple[float, float]]:
    """(wall s, CPU s) of each of ``epochs`` epochs of a bare loop (see the module docstring)."""
    from xbench.methods import Hasher
    from xbench.methods.epoch_log import EpochLog

    own_loop = type(model).train_epoch is not Hasher.train_epoch
    model.prepare(data)
    model._prepared = True
    opts = list(model.optimizers.values())
    min_batch = model.min_batch_size()
    times = []
    for epoch in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        model.apply_lr_schedule(data, epoch)
        log = EpochLog()  # the hooks' signatures need one; the bare loop reads nothing from it
        context = model.begin_epoch(data, epoch, log)
        if own_loop:
            model.train_epoch(data, epoch, log, context)
        else:
            for idx in model.batches(len(data), model.batch_size()):
                if len(idx) < min_batch:
                    continue
                out = model.batch_loss(data, idx, context)
                loss = out["loss"] if isinstance(out, Mapping) else out[0]
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                loss.backward()
                for opt in opts:
                    opt.step()
        model.end_epoch(data, epoch, log, context)
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def runner_epochs(config, method_cls) -> list[tuple[float, float]]:
    """(wall s, CPU s) between the starts of consecutive epochs of a run through ``execute``."""
    from xbench.running.runner import execute

    stamps: list[tuple[float, float]] = []
    original, own = method_cls.fit_epoch, "fit_epoch" in vars(method_cls)

    def stamped(self, data, epoch):
        stamps.append((time.perf_counter(), time.process_time()))
        return original(self, data, epoch)

    method_cls.fit_epoch = stamped
    try:
        result = execute(config, data_root="data", device="cpu")
    finally:
        if own:
            method_cls.fit_epoch = original
        else:
            del method_cls.fit_epoch
    if result.status != "ok":
        raise RuntimeError(f"{config.method}: {result.error}")
    return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(stamps, stamps[1:], strict=False)]


def measure(method: str, bits: int, epochs: int, repeats: int, noise: str = "symmetric:0.6") -> dict:
    """Per-epoch (wall, CPU) samples of both sides, alternated ``repeats`` times."""
    from xbench import methods
    from xbench.running.config import RunConfig
    from xbench.running.runner import prepare, problem_shape, seed_everything

    # both sides time epochs 1 … E−1 (0 pays first-call costs); the run has one more, whose start
    # marks the end of epoch E−1, and both use its budget (E + 1) for their schedules
    config = RunConfig(method=method, dataset="synthetic", bits=bits, noise=noise, epochs=epochs + 1)
    cls = methods.get(method)
    dev = torch.device("cpu")
    seed_everything(config.seed)
    prep = prepare(config, "data", dev)
    prep.train.epochs = config.epochs  # the typed budget, as the runner sets it
    bare: list[tuple[float, float]] = []
    runner: list[tuple[float, float]] = []
    batch = 0
    for r in range(repeats):
        for side in ("bare", "runner") if r % 2 == 0 else ("runner", "bare"):
            if side == "runner":
                runner += runner_epochs(dataclasses.replace(config), cls)[1:]
                continue
            seed_everything(config.seed)
            model = cls(problem_shape(prep.data, len(prep.train)), bits, device=dev, seed=config.seed)
            batch = int(model.hp.get("batch_size", 0))
            bare += bare_epochs(model, prep.train, epochs)[1:]
    return {"bare": bare, "runner": runner, "batch": batch}


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    cpu = [c for _, c in samples]
    return {
        "cpu_min": min(cpu),
        "cpu_median": statistics.median(cpu),
        "wall_median": statistics.median(w for w, _ in samples),
    }


def time_ci(jobs: int) -> float:
    root = Path(__file__).resolve().parents[2] / "results" / "experiments" / "ci.toml"
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
    ap.add_argument("--epochs", type=int, default=5, help="epochs per repetition; the first is not timed")
    ap.add_argument("--repeats", type=int, default=5, help="alternations of the two sides (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0: torch's default)")
    ap.add_argument("--ci", action="store_true", help="also time ci.toml with --jobs 1 and --jobs 2")
    args = ap.parse_args(argv)
    if args.epochs < 2 or args.repeats < 1:
        ap.error("--epochs must be at least 2 (the first is not timed) and --repeats at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [m for m in methods.registry.select(args.methods) if m not in NO_EPOCHS]
    load0 = os.getloadavg()[0]
    print(
        f"synthetic (features mode), {args.bits} bits, {args.epochs - 1} timed epochs × {args.repeats} alternations, "
        f"{torch.get_num_threads()} torch thread(s); seconds per epoch; load average {load0:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"{'method':<10} {'batch':>5} {'bare cpu min':>12} {'runner cpu min':>14} {'ratio':>6} "
        f"{'bare cpu med':>12} {'runner cpu med':>14} {'ratio':>6} {'bare wall med':>13} {'runner wall med':>15}"
    )
    for name in names:
        m = measure(name, args.bits, args.epochs, args.repeats)
        b, r = summary(m["bare"]), summary(m["runner"])
        print(
            f"{name:<10} {m['batch']:>5} {b['cpu_min']:>12.4f} {r['cpu_min']:>14.4f} "
            f"{r['cpu_min'] / b['cpu_min']:>6.3f} {b['cpu_median']:>12.4f} {r['cpu_median']:>14.4f} "
            f"{r['cpu_median'] / b['cpu_median']:>6.3f} {b['wall_median']:>13.4f} {r['wall_median']:>15.4f}",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if args.ci:
        t1, t2 = time_ci(1), time_ci(2)
        print(f"ci.toml wall time: --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s (speed-up {t1 / t2:.2f}x)")


if __name__ == "__main__":
    main()
