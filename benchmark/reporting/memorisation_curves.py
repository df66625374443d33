"""Print the memorisation figures of runs made with ``--eval-every`` (the numbers behind Figures 1 and 8).

For each stored run of a results folder that has per-epoch mAP in its history: the test mAP at
its peak (and the epoch), at the last epoch, the fall from peak to last, whether the training
set's mAP against its noisy labels rose at every evaluation (and its first → last values), and
the training time (sum of the epochs' training seconds, evaluations excluded) and the data
generation time. Usage::

    python -m xbench.reporting.memorisation_curves RESULTS [--dataset synthetic-images]
"""

from __future__ import annotations

import argparse
import itertools

from xbench.reporting.results import TASKS, load


def summary(history: list[dict]) -> dict[str, str]:
    rows = [h for h in history if "test_i2t" in h]
    out = {}
    for task in TASKS:
        test = [(h["epoch"], h[f"test_{task}"]) for h in rows]
        noisy = [h[f"train_noisy_{task}"] for h in rows]
        peak_epoch, peak = max(test, key=lambda t: t[1])
        last = test[-1][1]
        rising = all(b >= a for a, b in itertools.pairwise(noisy))
        out[task] = (
            f"test peak {peak:.3f} @ep{peak_epoch}, last {last:.3f}, fall {peak - last:.3f}; "
            f"train-noisy {noisy[0]:.3f}→{noisy[-1]:.3f} ({'rising throughout' if rising else 'not monotone'})"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--dataset", default=None)
    args = parser.parse_args()
    found = load(args.results)
    for d in found.damaged:
        print(f"Warning: {d}")
    for rec in sorted(found.records, key=lambda r: (r.method, r.noise)):
        if args.dataset and rec.dataset != args.dataset:
            continue
        history = rec.history
        if not rec.ok or not any("test_i2t" in h for h in history):
            continue
        train_s = sum(h.get("seconds", 0.0) for h in history)
        print(
            f"{rec.method} {rec.dataset} {rec.bits}b {rec.noise} ({len(history)} epochs; "
            f"training {train_s:.0f} s, data {rec.timings.get('data', 0.0):.0f} s)"
        )
        for task, line in summary(history).items():
            print(f"  {task}: {line}")


if __name__ == "__main__":
    main()
