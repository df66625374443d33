"""One run: load data → split → noisy training labels → train epoch by epoch → encode → evaluate.

:func:`execute` turns a :class:`~xbench.running.config.RunConfig` into a
:class:`~xbench.running.config.RunResult`. It never raises for a failure inside the run: an
exception or a non-finite loss yields a ``status="failed"`` result carrying the error, so a
grid goes on (one failing method must not block the others: erikbern/ann-benchmarks PR #57).
The last epoch is reported — no model selection on the query set (docs/metrics.md).
"""

from __future__ import annotations

import os
import platform
import random
import time
import traceback
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xbench._version import __version__
from xbench.evaluating import health, metrics, selection_quality
from xbench.running import selection
from xbench.running.config import RunConfig, RunResult


class NonFiniteLoss(RuntimeError):
    pass


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and torch; ask torch for deterministic kernels where it has them."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        set_deterministic_kernels()
        torch.backends.cudnn.benchmark = False


def set_deterministic_kernels() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without its import of
    ``torch._inductor`` (seconds per process): the eager flag is set directly; inductor's own flag
    is set too when inductor is already loaded (nothing here compiles)."""
    import sys

    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # pragma: no cover - a torch without the private setter
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    setter(True, warn_only=True)
    inductor_config = sys.modules.get("torch._inductor.config")
    if inductor_config is not None:
        inductor_config.deterministic = True


def environment(device: torch.device) -> dict[str, Any]:
    env = {
        "xbench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


@lru_cache(maxsize=4)
def _load_dataset(name: str, data_root: str, options: tuple[tuple[str, Any], ...]):
    from xbench import datasets

    return datasets.load(name, data_root, **dict(options))


def load_dataset(config: RunConfig, data_root: str | Path):
    """The dataset of a run with its split (a ``split_file`` overrides the dataset's own)."""
    data = _load_dataset(config.dataset, str(data_root), config.dataset_options)
    split = data.split
    if config.split_file:
        from xbench.datasets import splits as split_io  # provided by the datasets wing

        split = split_io.read_split_file(config.split_file, data.num_items)
    if split is None:
        raise ValueError(f"dataset '{config.dataset}' has no split; pass a split file")
    return data, split


def run_topk(config: RunConfig, data) -> int | None:
    """R of mAP@R for a run: the dataset's default, None (whole database) or the configured number."""
    if config.topk == "dataset":
        return data.default_topk
    if config.topk in (None, "all", "none"):
        return None
    return int(config.topk)


def problem_shape(data, num_train: int):
    from xbench.methods import ModalityShape, ProblemShape

    backbone = getattr(data, "meta", {}).get("image_backbone")  # the dataset's preferred image backbone
    return ProblemShape(
        image=ModalityShape(data.image_kind, data.image_dim, backbone),
        text=ModalityShape(data.text_kind, data.text_dim),
        num_classes=data.num_classes,
        multi_label=data.multi_label,
        num_train=num_train,
        dataset=data.name,
    )


def resolve_epochs(config: RunConfig, cls, data) -> int:
    """``--epochs`` if given, else the method's budget scaled by the dataset's ``epoch_scale``.

    Real datasets use each method's own default (``epoch_scale`` 1). The embedded
    ``synthetic`` benchmark is a smoke-size problem and declares a smaller scale so that the
    whole default grid runs in minutes on a laptop CPU (see its docstring).
    """
    if config.epochs is not None:
        return int(config.epochs)
    scale = float(getattr(data, "meta", {}).get("epoch_scale", 1.0))
    return max(1, int(round(cls.default_epochs * scale)))


def build_method(config: RunConfig, prep: Prepared, device: torch.device):
    """The run's method on ``device`` for the prepared data, and its epoch budget (also set on the
    training data: ``prep.train.epochs``, for methods whose schedules span the run)."""
    from xbench import methods

    cls = methods.get(config.method)
    method = cls(
        problem_shape(prep.data, len(prep.train)),
        config.bits,
        device=device,
        seed=config.seed,
        **config.hparams_dict,
    ).to(device)
    epochs = resolve_epochs(config, cls, prep.data)
    prep.train.epochs = epochs
    return method, epochs


def _tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.dtype == torch.float64:
        t = t.float()
    return t.to(device)


class LazyRows:
    """Rows ``index`` of a dataset's raw images, read only when sliced (encoding goes in chunks).

    Keeps the query and database images of the big datasets (e.g. 18,015 MIRFlickr images,
    2.7 GB as uint8) out of memory: ``Hasher.encode_all`` slices it batch by batch.
    """

    def __init__(self, data, index: np.ndarray):
        self.data, self.index = data, np.asarray(index)
        self.shape = (len(self.index), *tuple(data.image.shape[1:]))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, item):
        return torch.from_numpy(np.ascontiguousarray(self.data.take("image", self.index[item])))


@dataclass
class Prepared:
    """The data of one run, ready for training and evaluation."""

    data: Any
    split: Any
    train: Any  # methods.TrainData
    clean_train_labels: np.ndarray
    noise: Any  # noise.NoiseOutcome
    query: dict[str, torch.Tensor]
    database: dict[str, torch.Tensor]
    validation: dict[str, torch.Tensor] | None = None  # with select="validation" (xbench.running.selection)
    validation_source: str = ""


def prepare(config: RunConfig, data_root: str | Path, device: torch.device) -> Prepared:
    from xbench import noise as noise_wing
    from xbench.methods import TrainData

    data, split = load_dataset(config, data_root)
    val_index, val_source = None, ""
    if config.select == "validation":
        split, val_index, val_source = selection.carve_validation(
            split, config.validation_fraction, config.seed
        )
    clean = np.asarray(data.take("labels", split.train), dtype=np.uint8)
    outcome = noise_wing.inject(clean, config.noise, config.seed, per_modality=config.noise_per_modality)
    spec = noise_wing.NoiseSpec.parse(config.noise)
    rate = spec.rate if config.assumed_noise_rate is None else float(config.assumed_noise_rate)
    train = TrainData(
        image=_tensor(data.take("image", split.train), device),
        text=_tensor(data.take("text", split.train).astype(np.float32), device),
        labels=_tensor(outcome.image.noisy_labels.astype(np.float32), device),
        noise_rate=rate,
        text_labels=None
        if outcome.text is None
        else _tensor(outcome.text.noisy_labels.astype(np.float32), device),
    )

    def side(index):
        image = (
            LazyRows(data, index)
            if data.image_kind == "images"
            else _tensor(data.take("image", index), device)
        )
        return {
            "image": image,
            "text": _tensor(data.take("text", index).astype(np.float32), device),
            "labels": _tensor(data.take("labels", index).astype(np.float32), device),
        }

    return Prepared(
        data,
        split,
        train,
        clean,
        outcome,
        side(split.query),
        side(split.database),
        None if val_index is None else side(val_index),
        val_source,
    )


def evaluate_codes(
    method, query: dict, database: dict, topk: int | None, curves: bool = True, per_query: bool = False
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Encode both sides and evaluate I→T (image queries, text database) and T→I.

    ``per_query``: each task's dict also holds ``per_query`` arrays (:func:`metrics.per_query_values`).
    """
    codes = {f"query_{m}": method.encode_all(m, query[m]) for m in ("image", "text")}
    codes.update({f"db_{m}": method.encode_all(m, database[m]) for m in ("image", "text")})
    directions = {"i2t": ("query_image", "db_text"), "t2i": ("query_text", "db_image")}
    out = {
        task: metrics.evaluate(
            codes[q],
            codes[d],
            query["labels"],
            database["labels"],
            topk=topk,
            curves=curves,
            per_query=per_query,
        )
        for task, (q, d) in directions.items()
    }
    return out, codes


PER_QUERY_PREFIX = "per_query_"


def per_query_arrays(task_metrics: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Move each task's ``per_query`` arrays out of the (JSON) metrics into .npz entries
    ``per_query_<task>_<field>`` (e.g. ``per_query_i2t_ap``)."""
    out = {}
    for task, values in task_metrics.items():
        if not isinstance(values, dict):  # e.g. the list of real-valued / best-validation "variants"
            continue
        for name, arr in (values.pop("per_query", None) or {}).items():
            out[f"{PER_QUERY_PREFIX}{task}_{name}"] = np.asarray(arr)
    return out


def _train_map(method, train, labels: torch.Tensor, topk: int | None) -> dict[str, float]:
    """mAP of the training set retrieving itself across modalities, against ``labels``."""
    qi = method.encode_all("image", train.image)
    qt = method.encode_all("text", train.text)
    return {
        "i2t": metrics.mean_average_precision(qi, qt, labels, labels, topk=topk),
        "t2i": metrics.mean_average_precision(qt, qi, labels, labels, topk=topk),
    }


def correction_stats(clean: np.ndarray, noisy: np.ndarray, corrected: np.ndarray) -> dict[str, float]:
    """How a label-correcting method's labels relate to the clean and noisy ones (per sample rows).

    ``corrected_changed``: samples whose corrected labels differ from the noisy ones;
    ``corrected_fixed``: corrupted samples whose corrected labels equal the clean ones;
    ``corrected_broken``: clean (uncorrupted) samples whose corrected labels are now wrong;
    ``corrected_accuracy``: fraction of all samples whose corrected labels equal the clean ones.
    """
    clean = np.asarray(clean) > 0
    noisy = np.asarray(noisy) > 0
    corrected = np.asarray(corrected) > 0
    right = (corrected == clean).all(1)
    was_corrupted = (noisy != clean).any(1)
    return {
        "corrected_changed": float((corrected != noisy).any(1).sum()),
        "corrected_fixed": float((right & was_corrupted).sum()),
        "corrected_broken": float((~right & ~was_corrupted).sum()),
        "corrupted_before": float(was_corrupted.sum()),
        "corrected_accuracy": float(right.mean()) if len(right) else 0.0,
    }


def execute(
    config: RunConfig,
    data_root: str | Path = "data",
    device: str = "cpu",
    run_id: str | None = None,
    progress: bool = False,
) -> RunResult:
    """Run one grid cell; failures come back as a failed :class:`RunResult`."""

    dev = torch.device(device)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    history: list[dict[str, Any]] = []
    result = RunResult(
        run_id=run_id or config.run_id(),
        config=config.identity() | {"group": config.group},
        status="failed",
        environment=environment(dev),
    )
    try:
        seed_everything(config.seed)
        prep = prepare(config, data_root, dev)
        timings["data"] = time.perf_counter() - t0
        result.noise = prep.noise.stats
        result.split = {
            "checksum": prep.split.checksum(),
            **prep.split.sizes(),
            "source": prep.split.source,
            "protocol": getattr(prep.split, "protocol", ""),
            "num_items": prep.data.num_items,
        }
        method, epochs = build_method(config, prep, dev)
        result.hyperparameters = dict(method.hp)
        topk = run_topk(config, prep.data)
        arrays: dict[str, Any] = {
            "noisy_train_labels": prep.noise.image.noisy_labels,
            "corrupted": prep.noise.image.corrupted,
            "train_index": prep.split.train,
            "query_index": prep.split.query,
            "database_index": prep.split.database,
        }
        if prep.noise.text is not None:
            arrays["noisy_train_labels_text"] = prep.noise.text.noisy_labels
            arrays["corrupted_text"] = prep.noise.text.corrupted
        kinds = selection_quality.sample_kinds(
            prep.clean_train_labels,
            prep.noise.image.noisy_labels,
            None if prep.noise.text is None else prep.noise.text.noisy_labels,
        )
        clean_t = torch.as_tensor(prep.clean_train_labels.astype(np.float32), device=dev)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, desc=config.label(), leave=False, unit="epoch")
        selector = None
        if prep.validation is not None:
            selector = selection.ValidationSelector(
                prep.validation,
                prep.query,
                prep.database,
                topk,
                ("hamming", *config.retrieval),
                config.select_every,
            )
            result.split.update(
                validation=len(prep.validation["labels"]), validation_source=prep.validation_source
            )
        t_train = time.perf_counter()
        for epoch in range(epochs):
            method.train()
            t_ep = time.perf_counter()
            logged = method.fit_epoch(prep.train, epoch) or {}
            entry = {"epoch": epoch + 1, "seconds": time.perf_counter() - t_ep}
            entry.update({k: float(v) for k, v in logged.items()})
            bad = [k for k, v in entry.items() if isinstance(v, float) and not np.isfinite(v)]
            if bad:
                raise NonFiniteLoss(f"non-finite {', '.join(bad)} at epoch {epoch + 1}")
            if config.eval_every and ((epoch + 1) % config.eval_every == 0 or epoch + 1 == epochs):
                test, _ = evaluate_codes(method, prep.query, prep.database, topk, curves=False)
                entry["test_i2t"], entry["test_t2i"] = test["i2t"]["map"], test["t2i"]["map"]
                noisy = _train_map(method, prep.train, prep.train.labels, topk)
                clean_map = _train_map(method, prep.train, clean_t, topk)
                entry.update(
                    {
                        "train_noisy_i2t": noisy["i2t"],
                        "train_noisy_t2i": noisy["t2i"],
                        "train_clean_i2t": clean_map["i2t"],
                        "train_clean_t2i": clean_map["t2i"],
                    }
                )
            corrected = method.corrected_labels()
            if corrected is not None:
                entry.update(
                    correction_stats(prep.clean_train_labels, prep.noise.image.noisy_labels, corrected)
                )
            selected = method.selected_samples()
            if selected is not None:
                entry.update(selection_quality.selection_stats(selected, *kinds))
                result.extra["selection_base"] = selection_quality.base_rates(*kinds)
            if (epoch + 1) in config.loss_epochs and method.has_sample_losses:
                losses = method.sample_losses(prep.train)
                if losses is not None:
                    arrays[f"sample_losses_epoch{epoch + 1}"] = np.asarray(losses, dtype=np.float32)
            if selector is not None:
                selector.after_epoch(method, epoch, epochs, entry)
            history.append(entry)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{entry.get('loss', float('nan')):.4g}")
        if bar is not None:
            bar.close()
        timings["train"] = time.perf_counter() - t_train
        t_eval = time.perf_counter()
        result.metrics, codes = evaluate_codes(method, prep.query, prep.database, topk, per_query=True)
        variants = selection.real_valued_variants(
            method, config.retrieval, prep.query, prep.database, topk, epochs
        )
        variants += selector.variants() if selector is not None else []
        if variants:
            result.metrics["variants"] = variants
        timings["evaluate"] = time.perf_counter() - t_eval
        arrays.update({k: v.cpu().numpy() for k, v in codes.items()})
        arrays.update(per_query_arrays(result.metrics))
        result.health = health.code_health(arrays)
        result.arrays = arrays
        result.extra = {
            **result.extra,
            "epochs": epochs,
            "topk": topk,
            "method_state": method.extra_state_for_store(),
        }
        result.status = "ok"
    except Exception as exc:  # recorded, the grid goes on
        result.error = f"{type(exc).__name__}: {exc}"
        result.extra["traceback"] = traceback.format_exc(limit=20)
    result.history = history
    timings["total"] = time.perf_counter() - t0
    result.timings = timings
    return result
