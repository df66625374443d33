"""Which network memorises, and when: a per-epoch diagnosis of one run on noisy labels.

The runner's ``--eval-every`` history holds the cross-modal test mAP (I→T, T→I) and the training
set's mAP against its noisy and clean labels. Each direction mixes two networks (I→T: image
queries against text database codes), so it cannot say which network's codes degrade. This
script trains one run as the runner does and, every ``--every`` epochs, also prints for each
modality separately:

* ``i2i`` / ``t2t``: test mAP within one modality (query codes against database codes);
* ``memo_image`` / ``memo_text``: the share of the corrupted training samples (those whose noisy
  target code differs from their clean one) whose code is nearer (Hamming) their noisy target
  than their clean target: 0 before the network fits the noise, 1 once it has memorised all of it;
* ``fit_image`` / ``fit_text``: the share of the query codes' bits that equal the query's clean
  target code (generalisation of each network on its own).

It needs a method with per-item target codes (``assign_targets``: ``bce``, ``cmmq``,
``cmmq-code``). Findings and the commands: ``docs/synthetic-images.md`` ("Why T→I did not fall").
Usage::

    python -m xbench.perf.memorisation --method bce --dataset synthetic-images \\
        --noise symmetric-sample:0.4 --every 5 [--dataset-option KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import torch

from xbench.errors import XbenchError
from xbench.evaluating import metrics
from xbench.running.config import RunConfig, parse_dataset_options
from xbench.running.runner import build_method, evaluate_codes, prepare, seed_everything


def memorised_share(codes: torch.Tensor, noisy: torch.Tensor, clean: torch.Tensor) -> float:
    """Share of rows of ``codes`` strictly nearer (Hamming) ``noisy`` than ``clean``; rows where the two
    targets are equal must be left out by the caller. NaN for no rows."""
    if len(codes) == 0:
        return float("nan")
    to_noisy = (codes != noisy).sum(1)
    to_clean = (codes != clean).sum(1)
    return float((to_noisy < to_clean).float().mean())


def bit_fit(codes: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of the bits of ``codes`` that equal ``targets``."""
    return float((codes == targets).float().mean())


def diagnose(config: RunConfig, every: int, data_root: str = "", device: str = "cpu") -> list[dict[str, Any]]:
    """Train ``config`` and return one row of diagnostics per evaluation (module docstring)."""
    dev = torch.device(device)
    seed_everything(config.seed)
    prep = prepare(config, data_root, dev)
    method, epochs = build_method(config, prep, dev)
    if not hasattr(method, "assign_targets"):
        raise SystemExit(f"{config.method}: no per-item target codes (use bce, cmmq or cmmq-code)")
    clean = torch.as_tensor(prep.clean_train_labels.astype(np.float32), device=dev)
    with torch.no_grad():
        o_noisy = method.assign_targets(prep.train.labels)
        o_clean = method.assign_targets(clean)
        o_query = method.assign_targets(prep.query["labels"])
    moved = (o_noisy != o_clean).any(1)
    ql, dl = prep.query["labels"], prep.database["labels"]
    rows, t0 = [], time.perf_counter()
    for epoch in range(epochs):
        method.fit_epoch(prep.train, epoch)
        if (epoch + 1) % every and epoch + 1 != epochs:
            continue
        with torch.no_grad():
            _, c = evaluate_codes(method, prep.query, prep.database, None, curves=False)
            train_codes = {m: method.encode_all(m, getattr(prep.train, m)) for m in ("image", "text")}
        row: dict[str, Any] = {"epoch": epoch + 1}
        for name, (q, d) in {
            "i2t": ("query_image", "db_text"),
            "t2i": ("query_text", "db_image"),
            "i2i": ("query_image", "db_image"),
            "t2t": ("query_text", "db_text"),
        }.items():
            row[name] = metrics.mean_average_precision(c[q], c[d], ql, dl)
        for m in ("image", "text"):
            codes = train_codes[m].float()
            row[f"memo_{m}"] = memorised_share(codes[moved], o_noisy[moved], o_clean[moved])
            row[f"fit_{m}"] = bit_fit(c[f"query_{m}"].float(), o_query)
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="bce")
    parser.add_argument("--dataset", default="synthetic-images")
    parser.add_argument("--bits", type=int, default=32)
    parser.add_argument("--noise", default="symmetric-sample:0.4")
    parser.add_argument("--epochs", type=int, default=None, help="default: the method's own budget")
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    try:
        options = parse_dataset_options(args.dataset_option)  # the same reading as `xbench data`
    except XbenchError as exc:
        parser.error(str(exc))
    config = RunConfig(
        method=args.method,
        dataset=args.dataset,
        bits=args.bits,
        noise=args.noise,
        seed=args.seed,
        epochs=args.epochs,
        dataset_options=tuple(sorted(options.items())),
    )
    rows = diagnose(config, args.every)
    keys = [k for k in rows[0] if k != "seconds"]
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) if k == "epoch" else f"{row[k]:.3f}" for k in keys))
    print(f"({rows[-1]['seconds']:.0f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
