"""Runner benchmark: seconds per epoch of each method under ``xbench run`` vs bare PyTorch.

Run as ``python -m xbench.perf_runner [--methods all] [--epochs 3] [--bits 64] [--ci]``.
For every method on ``synthetic`` (features mode) it prints

* ``bare``: a bare PyTorch loop over the same image/text networks and batch size (FC(K)+tanh
  head on the image features, the three-layer text MLP, a BCE step per batch) — the cost of
  the networks alone;
* ``direct``: the method's own ``fit_epoch`` called in a plain loop on tensors prepared once —
  the cost of the method;
* ``runner``: the per-epoch wall time of the same method inside :func:`xbench.runner.execute`
  (seeding, data preparation, noise injection, bookkeeping, history; evaluation excluded);
* ``overhead``: runner / direct − 1 (goal ≤ 20%).

With ``--ci`` it also times ``xbench run --config results/experiments/ci.toml`` with
``--jobs 1`` and ``--jobs 2`` (fresh results folders).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def _bare_epoch_seconds(shape, bits: int, batch_size: int, train, epochs: int) -> float:
    from xbench.methods.networks import ImageNet, TextNet

    img, txt = ImageNet(shape.image, bits), TextNet(shape.text.dim, bits)
    opt = torch.optim.RMSprop(list(img.parameters()) + list(txt.parameters()), lr=1e-4)
    target = (torch.rand(len(train), bits, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for idx in torch.randperm(len(train)).split(batch_size):
            loss = torch.nn.functional.binary_cross_entropy((img(train.image[idx]) + 1) / 2, target[idx]) + \
                torch.nn.functional.binary_cross_entropy((txt(train.text[idx]) + 1) / 2, target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(method: str, bits: int, epochs: int, noise: str = "symmetric:0.6") -> dict[str, float]:
    from xbench import methods
    from xbench.config import RunConfig
    from xbench.runner import execute, prepare, problem_shape, seed_everything

    config = RunConfig(method=method, dataset="synthetic", bits=bits, noise=noise, epochs=epochs)
    dev = torch.device("cpu")
    seed_everything(0)
    prep = prepare(config, "data", dev)
    shape = problem_shape(prep.data, len(prep.train))
    cls = methods.get(method)
    model = cls(shape, bits, device=dev, seed=0)
    batch = int(model.hp.get("batch_size", 128))
    direct = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        model.train()
        model.fit_epoch(prep.train, epoch)
        direct.append(time.perf_counter() - t0)
    result = execute(config, data_root="data", device="cpu")
    if result.status != "ok":
        raise RuntimeError(f"{method}: {result.error}")
    runner_epoch = (result.timings["total"] - result.timings["evaluate"]) / epochs
    return {"bare": _bare_epoch_seconds(shape, bits, batch, prep.train, epochs),
            "direct": statistics.median(direct), "runner": runner_epoch, "batch": batch}


def time_ci(jobs: int) -> float:
    root = Path(__file__).resolve().parents[1] / "results" / "experiments" / "ci.toml"
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "xbench", "run", "--config", str(root), "--results", tmp,
                        "--jobs", str(jobs), "-q"], check=True, capture_output=True)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    from xbench import methods

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="all")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--ci", action="store_true", help="also time ci.toml with --jobs 1 and --jobs 2")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [m for m in methods.registry.select(args.methods) if m != "lsh"]
    print(f"synthetic (features mode), {args.bits} bits, {args.epochs} epochs, "
          f"{torch.get_num_threads()} torch threads; seconds per epoch")
    print(f"{'method':<10} {'batch':>5} {'bare':>8} {'direct':>8} {'runner':>8} {'overhead':>9}")
    for name in names:
        m = measure(name, args.bits, args.epochs)
        print(f"{name:<10} {m['batch']:>5} {m['bare']:>8.3f} {m['direct']:>8.3f} {m['runner']:>8.3f} "
              f"{m['runner'] / m['direct'] - 1:>8.1%}")
    if args.ci:
        t1, t2 = time_ci(1), time_ci(2)
        print(f"ci.toml wall time: --jobs 1 {t1:.1f} s, --jobs 2 {t2:.1f} s (speed-up {t1 / t2:.2f}x)")


if __name__ == "__main__":
    main()
