"""Training-budget benchmark: ``python -m xbench.perf.budget`` (issue 13 item 2; a benchmark, not a test).

For each method on ``synthetic`` (features mode) at its default budget (the epochs ``xbench run``
gives it there) it prints the training seconds, the mAP (mean of I→T and T→I mAP@R) and the mAP at
twice the budget: a method whose two mAPs differ by more than ``--tolerance`` (0.01) has not
reached its plateau at the default budget. ``--set METHOD.PARAM=VALUE`` (repeatable) tries a
variant, e.g. ``--set uot-rcl.networks=mlp`` (MRL's 4096-wide MLPs) or ``--set uot-rcl.hidden=1024``.

Every run uses one torch thread and the noise of the main job (``symmetric:0.6`` unless ``--noise``).
A method fitted once (``default_epochs`` 1: ``cca``, ``pls``) gets one run. The runs go to ``--jobs``
worker processes at once (default: the usable cores), longest first; rows print as methods complete,
then the whole table in the methods' order. Seconds are the training loop's wall time inside a
worker and depend on the machine's load, printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

# rough idle seconds per epoch (64 bits, one thread), only to start the longest runs first
_COST = {"uot-rcl": 1.0, "ssah": 2.0, "prdh": 0.5, "dcmh": 0.3, "cmmq": 0.8}


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


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)  # a fresh worker; the calling process may have started its pool
    except RuntimeError:
        pass


def _parse_set(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        method, dot, param = key.partition(".")
        if not sep or not dot:
            raise SystemExit(f"--set '{item}': expected METHOD.PARAM=VALUE")
        out.setdefault(method.strip(), {})[param.strip()] = value.strip()
    return out


def default_epochs(method: str, dataset_options: dict, data=None) -> int:
    """The epochs ``xbench run`` gives ``method`` on ``synthetic`` without ``--epochs``."""
    from xbench import methods
    from xbench.running.config import RunConfig
    from xbench.running.runner import load_dataset, resolve_epochs

    config = RunConfig(
        method=method, dataset="synthetic", bits=64, dataset_options=tuple(dataset_options.items())
    )
    if data is None:
        data, _ = load_dataset(config, "data")
    return resolve_epochs(config, methods.get(method), data)


def row(label: str, one: dict, two: dict | None, tolerance: float) -> str:
    head = f"{label:<28} {one['epochs']:>6} {one['seconds']:>8.1f} {one['map']:>7.4f}"
    if two is None:
        return f"{head} {'-':>7} {'-':>7}  -"
    delta = two["map"] - one["map"]
    return f"{head} {two['map']:>7.4f} {delta:>+7.4f}  {'yes' if abs(delta) <= tolerance else 'NO'}"


def main(argv: list[str] | None = None) -> int:
    from xbench import methods
    from xbench.running.config import RunConfig
    from xbench.running.executor import normalize
    from xbench.running.threads import usable_cores

    ap = argparse.ArgumentParser(prog="python -m xbench.perf.budget", description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="all", help="'all' or a comma list (default: all but lsh)")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--noise", default="symmetric:0.6")
    ap.add_argument("--set", dest="set_", action="append", default=[], metavar="METHOD.PARAM=VALUE")
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--single", action="store_true", help="only the default budget (no run at twice it)")
    ap.add_argument("--jobs", type=int, default=0, help="runs at once (default 0: the usable cores)")
    ap.add_argument(
        "--dataset-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="synthetic's options (repeatable; for smoke tests — the figures are for the default size)",
    )
    args = ap.parse_args(argv)
    _one_thread()
    names = [m for m in methods.registry.select(args.methods.split(",")) if m != "lsh"]
    overrides = _parse_set(args.set_)
    options = {k: int(v) for k, _, v in (o.partition("=") for o in args.dataset_option)}
    jobs = args.jobs or usable_cores()
    tasks: list[tuple[str, int, dict, str]] = []  # (method, epochs, hparams, label)
    labels: dict[str, str] = {}
    wanted: dict[str, int] = {}  # runs per method: 1 (single budget) or 2
    from xbench.running.runner import load_dataset

    data, _ = load_dataset(
        RunConfig(method=names[0], dataset="synthetic", bits=64, dataset_options=tuple(options.items())),
        "data",
    )
    for name in names:
        raw = overrides.get(name, {})
        config = RunConfig(method=name, dataset="synthetic", bits=args.bits, hparams=tuple(raw.items()))
        hp = dict(normalize(config).hparams)
        labels[name] = name + ("[" + ",".join(f"{k}={v}" for k, v in hp.items()) + "]" if hp else "")
        epochs = default_epochs(name, options, data)
        once = args.single or methods.get(name).default_epochs == 1  # fitted once (lsh, cca, pls)
        wanted[name] = 1 if once else 2
        for e in (epochs,) if once else (epochs, 2 * epochs):
            tasks.append((name, e, hp, labels[name]))
    tasks.sort(key=lambda t: -_COST.get(t[0], 0.2) * t[1])
    load0 = os.getloadavg()[0]
    print(
        f"synthetic (features mode), {args.bits} bits, noise {args.noise}, 1 torch thread per run, "
        f"{jobs} run(s) at once; load average {load0:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    header = f"{'method':<28} {'epochs':>6} {'train s':>8} {'mAP':>7} {'mAP@2x':>7} {'Δ':>7}  plateau"
    print(header, flush=True)
    done: dict[str, dict[int, dict]] = {name: {} for name in names}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context("spawn"), initializer=_one_thread
    ) as pool:
        futures = {
            pool.submit(run_one, name, args.bits, args.noise, e, hp, dataset_options=options): (name, e)
            for name, e, hp, _ in tasks
        }
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            name, e = futures[future]
            done[name][e] = future.result()
            runs = done[name]
            if len(runs) == wanted[name]:
                small = min(runs)
                print(row(labels[name], runs[small], runs.get(2 * small), args.tolerance), flush=True)
    print(
        f"\nall {len(tasks)} runs in {time.perf_counter() - t0:.0f} s wall; load average now "
        f"{os.getloadavg()[0]:.2f}; in the methods' order:"
    )
    print(header)
    for name in names:
        small = min(done[name])
        print(row(labels[name], done[name][small], done[name].get(2 * small), args.tolerance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
