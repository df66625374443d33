"""Model selection on a validation split, and the result variants stored beside the main numbers.

By default xbench reports the **last** epoch (no model selection on the query set,
docs/metrics.md). With ``select = "validation"`` a run also reports the test results of the
epoch with the best **validation** mAP — MRL's protocol (Hu et al., CVPR 2021; penghu-cs/MRL
@ e0f5c8f ``main_noisy.py`` L265-342 prints both "last epoch" and "best validation"):

* **Validation items**: the dataset's own validation split when it has one (``Split.validation``,
  e.g. ``wikipedia`` with ``dataset_options.protocol = "mrl"``), else a seeded fraction
  (``validation_fraction``) carved out of the training split *before* noise is injected; the
  carved items leave the training set (they are never trained on) and keep their **clean**
  labels, as MRL's validation set does. The query set is never used for selection.
* **When**: every ``select_every`` epochs and after the last epoch.
* **Criterion**: the mean of the validation I→T and T→I mAP over the whole validation set
  (validation images retrieve validation texts and the reverse), for each retrieval separately
  (Hamming for the hash codes, cosine/Euclidean for the real-valued outputs): each retrieval's
  selected epoch is the one where *its* validation score is highest (the earliest on a tie).
  Whenever a retrieval's validation score improves, the test set is evaluated at once and kept,
  so no checkpoint is needed.

Stored result shape (``RunResult.metrics``): ``i2t``/``t2i`` stay the Hamming, last-epoch numbers;
``variants`` is a list of ``{"retrieval", "selection", "epoch", "i2t", "t2i"}`` (plus
``validation_map`` for selected ones): the real-valued last-epoch results and the selected-epoch
results. :func:`xbench.reporting.results.variant_rows` flattens them for the results table.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from xbench.evaluating import metrics, realvalued

SELECTIONS = ("last", "validation")
RETRIEVALS = ("hamming", *realvalued.SIMILARITIES)


def check_options(
    select: str, select_every: int, validation_fraction: float, retrieval: tuple[str, ...]
) -> list[str]:
    """Problems with the selection/retrieval options, one line each (empty = fine)."""
    problems = []
    if select not in SELECTIONS:
        problems.append(f"select: expected one of {', '.join(SELECTIONS)}, got {select!r}")
    if isinstance(select_every, bool) or not isinstance(select_every, int) or select_every < 1:
        problems.append(f"select_every: expected a positive integer, got {select_every!r}")
    if not isinstance(validation_fraction, (int, float)) or not (0.0 < float(validation_fraction) < 1.0):
        problems.append(f"validation_fraction: expected a number in (0, 1), got {validation_fraction!r}")
    bad = [r for r in retrieval if r not in RETRIEVALS]
    if bad:
        problems.append(
            f"retrieval: expected a list of {', '.join(RETRIEVALS)}, got {', '.join(map(str, bad))}"
        )
    return problems


def carve_validation(split: Any, fraction: float, seed: int) -> tuple[Any, np.ndarray, str]:
    """The training split without its validation part, the validation indices and where they came from.

    The dataset's own ``split.validation`` is used when present; otherwise ⌊fraction · N_train⌉
    (at least 1) training items are drawn with ``numpy.random.default_rng([seed, crc32("validation")])``
    and removed from ``train`` (they stay in the database, which only test queries search).
    """
    own = getattr(split, "validation", None)
    if own is not None and len(own):
        return split, np.asarray(own, dtype=np.int64), "dataset validation split"
    train = np.asarray(split.train, dtype=np.int64)
    m = min(len(train) - 1, max(1, round(fraction * len(train))))
    if m < 1:
        raise ValueError(
            f"validation_fraction {fraction:g}: the training split ({len(train)} items) is too small "
            "to carve a validation part from"
        )
    rng = np.random.default_rng([int(seed), zlib.crc32(b"validation")])
    val = np.sort(rng.choice(train, size=m, replace=False))
    keep = train[~np.isin(train, val)]
    return (
        replace(split, train=keep),
        val,
        f"{m} of {len(train)} training items (fraction {fraction:g}, seeded)",
    )


def evaluate_real(
    method: Any, query: dict, database: dict, topk: int | None, similarity: str, curves: bool = True
) -> dict[str, Any]:
    """I→T and T→I of the method's real-valued outputs ranked by ``similarity``."""
    enc = {
        (side, m): realvalued.continuous_all(method, m, part[m]).cpu().numpy()
        for side, part in (("q", query), ("d", database))
        for m in ("image", "text")
    }
    ql, dl = query["labels"].cpu().numpy(), database["labels"].cpu().numpy()
    return {
        "i2t": realvalued.evaluate(
            enc["q", "image"], enc["d", "text"], ql, dl, similarity=similarity, topk=topk, curves=curves
        ),
        "t2i": realvalued.evaluate(
            enc["q", "text"], enc["d", "image"], ql, dl, similarity=similarity, topk=topk, curves=curves
        ),
    }


def evaluate_hamming(
    method: Any, query: dict, database: dict, topk: int | None, curves: bool = True
) -> dict[str, Any]:
    codes = {
        (side, m): method.encode_all(m, part[m])
        for side, part in (("q", query), ("d", database))
        for m in ("image", "text")
    }
    return {
        "i2t": metrics.evaluate(
            codes["q", "image"],
            codes["d", "text"],
            query["labels"],
            database["labels"],
            topk=topk,
            curves=curves,
        ),
        "t2i": metrics.evaluate(
            codes["q", "text"],
            codes["d", "image"],
            query["labels"],
            database["labels"],
            topk=topk,
            curves=curves,
        ),
    }


def evaluate_retrieval(
    method: Any, retrieval: str, query: dict, database: dict, topk: int | None, curves: bool = True
) -> dict[str, Any]:
    if retrieval == "hamming":
        return evaluate_hamming(method, query, database, topk, curves)
    return evaluate_real(method, query, database, topk, retrieval, curves)


def real_valued_variants(
    method: Any, retrieval: tuple[str, ...], query: dict, database: dict, topk: int | None, epoch: int
) -> list[dict[str, Any]]:
    """Last-epoch results of the real-valued retrievals asked for (Hamming is the main result)."""
    return [
        {
            "retrieval": r,
            "selection": "last",
            "epoch": epoch,
            **evaluate_real(method, query, database, topk, r),
        }
        for r in retrieval
        if r != "hamming"
    ]


@dataclass
class ValidationSelector:
    """Tracks the best-validation epoch of each retrieval and keeps its test results."""

    validation: dict[str, torch.Tensor]
    query: dict[str, Any]
    database: dict[str, Any]
    topk: int | None
    retrievals: tuple[str, ...]
    every: int = 1
    best: dict[str, dict[str, Any]] = field(default_factory=dict)

    def due(self, epoch: int, epochs: int) -> bool:
        return (epoch + 1) % self.every == 0 or epoch + 1 == epochs

    def after_epoch(self, method: Any, epoch: int, epochs: int, entry: dict[str, Any]) -> None:
        """Score the validation split (logged into ``entry``); on improvement evaluate the test set."""
        if not self.due(epoch, epochs):
            return
        for r in self.retrievals:
            val = evaluate_retrieval(method, r, self.validation, self.validation, None, curves=False)
            score = 0.5 * (val["i2t"]["map"] + val["t2i"]["map"])
            entry[f"val_{r}_i2t"], entry[f"val_{r}_t2i"] = val["i2t"]["map"], val["t2i"]["map"]
            if r not in self.best or score > self.best[r]["validation_map"]:
                test = evaluate_retrieval(method, r, self.query, self.database, self.topk)
                self.best[r] = {
                    "retrieval": r,
                    "selection": "validation",
                    "epoch": epoch + 1,
                    "validation_map": score,
                    **test,
                }

    def variants(self) -> list[dict[str, Any]]:
        return [self.best[r] for r in self.retrievals if r in self.best]
