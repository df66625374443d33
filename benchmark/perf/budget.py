"""Training-budget benchmark: ``python -m xbench.perf.budget`` (issue 13 item 2; a benchmark, not a test).

For each method on ``synthetic`` (features mode) at its default budget (the epochs ``xbench run``
gives it there) it prints the training seconds, the mAP (mean of I→T and T→I mAP@R) and the mAP at
twice the budget: a method whose two mAPs differ by more than ``--tolerance`` (0.01) has not
reached its plateau at the default budget. ``--set METHOD.PARAM=VALUE`` (repeatable) tries a
variant, e.g. ``--set uot-rcl.hidden=1024`` or ``--set uot-rcl.networks=shared`` for the question
whether uot-rcl needs its 4096-wide networks on 512-d features.

Every run uses one torch thread and the noise of the main job (``symmetric:0.6`` unless ``--noise``);
seconds depend on the machine's load, which is printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys


def run_one(
    method: str,
    bits: int,
    noise: str,
    epochs: int | None,
    hparams: dict,
    seed: int = 0,
    dataset_options: dict | None = None,
) -> dict:
    """One run through :func:`xbench.running.runner.execute`; its epochs, training seconds and mean mAP."""
    from xbench.running.config import RunConfig
    from xbench.running.runner import execute

    config = RunConfig(
        method=method,
        dataset="synthetic",
        bits=bits,
        noise=noise,
        seed=seed,
        epochs=epochs,
        hparams=tuple(sorted(hparams.items())),
        dataset_options=tuple(sorted((dataset_options or {}).items())),
    )
    result = execute(config, data_root="data", device="cpu")
    if result.status != "ok":
        raise RuntimeError(f"{method}: {result.error}")
    m = result.metrics
    return {
        "epochs": int(result.extra["epochs"]),
        "seconds": float(result.timings["train"]),
        "map": (m["i2t"]["map"] + m["t2i"]["map"]) / 2,
    }


def _parse_set(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        method, dot, param = key.partition(".")
        if not sep or not dot:
            raise SystemExit(f"--set '{item}': expected METHOD.PARAM=VALUE")
        out.setdefault(method.strip(), {})[param.strip()] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    from xbench import methods
    from xbench.running.config import RunConfig
    from xbench.running.executor import normalize

    ap = argparse.ArgumentParser(prog="python -m xbench.perf.budget", description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="all", help="'all' or a comma list (default: all but lsh)")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--noise", default="symmetric:0.6")
    ap.add_argument("--set", dest="set_", action="append", default=[], metavar="METHOD.PARAM=VALUE")
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--single", action="store_true", help="only the default budget (no run at twice it)")
    ap.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="synthetic's options (repeatable; for smoke tests — the figures are for the default size)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = [m for m in methods.registry.select(args.methods.split(",")) if m != "lsh"]
    overrides = _parse_set(args.set_)
    options = {k: int(v) for k, _, v in (o.partition("=") for o in args.dataset_option)}
    load0 = os.getloadavg()[0]
    print(
        f"synthetic (features mode), {args.bits} bits, noise {args.noise}, 1 torch thread; "
        f"load average {load0:.2f} on {os.cpu_count()} CPUs"
    )
    print(f"{'method':<28} {'epochs':>6} {'train s':>8} {'mAP':>7} {'mAP@2x':>7} {'Δ':>7}  plateau")
    for name in names:
        raw = overrides.get(name, {})
        hp = dict(
            normalize(
                RunConfig(method=name, dataset="synthetic", bits=args.bits, hparams=tuple(raw.items()))
            ).hparams
        )
        one = run_one(name, args.bits, args.noise, None, hp, dataset_options=options)
        label = name + ("[" + ",".join(f"{k}={v}" for k, v in hp.items()) + "]" if hp else "")
        if args.single:
            print(
                f"{label:<28} {one['epochs']:>6} {one['seconds']:>8.1f} {one['map']:>7.4f} {'-':>7} {'-':>7}  -",
                flush=True,
            )
            continue
        two = run_one(name, args.bits, args.noise, 2 * one["epochs"], hp, dataset_options=options)
        delta = two["map"] - one["map"]
        print(
            f"{label:<28} {one['epochs']:>6} {one['seconds']:>8.1f} {one['map']:>7.4f} {two['map']:>7.4f} "
            f"{delta:>+7.4f}  {'yes' if abs(delta) <= args.tolerance else 'NO'}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
