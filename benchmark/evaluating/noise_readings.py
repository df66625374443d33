"""Print the realised statistics of the two readings of the paper's symmetric noise, side by side.

``symmetric:ρ`` (per label: every positive moves w.p. ρ) against ``symmetric-sample:ρ`` (per
sample: a sample is corrupted w.p. ρ, then all its positives move), on

* the training labels of ``synthetic`` (default options, 2,000 rows, 24 classes),
* the training labels of ``synthetic-images`` (default options, 1,000 rows, 16 classes),
* a **simulated** MIRFlickr-sized label matrix: 20,015 × 24 drawn with the ``synthetic`` label
  generator at 3.78 labels per pair (MIRFlickr-25K's mean; no real MIRFlickr labels are used).

Usage: ``python -m xbench.evaluating.noise_readings [--seed 0] [--rates 0.2,0.4,0.6,0.8]``; prints a
Markdown table (the one in ``docs/noise-readings.md``). Takes a few seconds.
"""

from __future__ import annotations

import argparse

import numpy as np

from xbench import noise
from xbench.datasets.synthetic import make_synthetic, synthetic_labels
from xbench.datasets.synthetic_images import make_synthetic_images

MODELS = ("symmetric", "symmetric-sample")
COLUMNS = ("samples corrupted", "positives lost", "negatives gained", "labels/sample", "share no label")


def label_sets(seed: int) -> dict[str, np.ndarray]:
    """The three clean label matrices of the table."""
    syn = make_synthetic(seed=seed)
    img = make_synthetic_images(seed=seed)
    mir = synthetic_labels(np.random.default_rng([seed, 25]), 20015, 24, 3.78, 6)
    sets = {
        "synthetic": syn.labels[syn.split.train],
        "synthetic-images": img.labels[img.split.train],
    }
    out = {f"{name} (train, {m.shape[0]}×{m.shape[1]})": m for name, m in sets.items()}
    out[f"MIRFlickr-sized, simulated ({mir.shape[0]}×{mir.shape[1]})"] = mir
    return out


def row(labels: np.ndarray, spec: str, seed: int) -> list[str]:
    s = noise.inject(labels, spec, seed).stats["shared"]
    return [
        f"{s['corrupted_fraction']:.3f}",
        f"{s['positives_lost_fraction']:.3f}",
        f"{s['negatives_gained_fraction']:.3f}",
        f"{s['labels_per_sample_noisy']:.2f}",
        f"{s['disjoint_fraction']:.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rates", default="0.2,0.4,0.6,0.8")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print("| labels | clean labels/sample | ρ | model | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|---|" + "---|" * len(COLUMNS))
    for name, labels in label_sets(args.seed).items():
        mean = f"{labels.sum(1).mean():.2f}"
        for rate in rates:
            for model in MODELS:
                cells = row(labels, f"{model}:{rate:g}", args.seed)
                print(f"| {name} | {mean} | {rate:g} | `{model}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
