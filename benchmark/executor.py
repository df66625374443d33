"""Executing a grid: validation up front, resume, parallel/GPU/Dask execution, storing results.

* **Validation** (:func:`validate`): every cell is checked — method, dataset and noise
  names, noise rate, supported code length, ``--set`` keys and values — and all problems are
  reported together before anything trains.
* **Resume**: a cell whose result JSON exists with status ``ok`` is skipped unless
  ``force``; failed cells are retried.
* **Parallelism**: ``jobs > 1`` runs cells in joblib worker processes (loky, reused from cell to
  cell); the thread policy (:mod:`xbench.threads`: ``jobs=None`` is ``--jobs auto``, features-mode
  cells get one torch thread) sets each cell's threads; ``devices`` spreads cells round-robin over GPUs.
* **Dask**: ``backend="dask"`` sends cells to an existing cluster through joblib's Dask
  backend; results travel back to this process, which stores them (no shared filesystem is
  needed for results; the data root must be readable on the workers).

Results are stored by the client process as each cell finishes, atomically, so killing the
process at any moment loses at most the cells in flight.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import store
from . import threads as thread_policy
from .config import RunConfig, RunResult
from .grid import GridError


@dataclass
class Cell:
    config: RunConfig
    run_id: str
    device: str = "cpu"


@dataclass
class GridSummary:
    ran: list[RunResult] = field(default_factory=list)
    skipped: list[Cell] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.ran if r.status != "ok"]


def resolve_identity(config: RunConfig) -> dict[str, Any]:
    """Values folded into the run id beyond the config: resolved hyperparameters, split file hash."""
    import hashlib

    from xbench import methods

    cls = methods.get(config.method)
    hp = config.hparams_dict
    resolved: dict[str, Any] = {
        "hp_features": cls.resolve_hyperparameters(hp, features_mode=True),
        "hp_raw": cls.resolve_hyperparameters(hp, features_mode=False),
    }
    if config.split_file:
        resolved["split_sha256"] = hashlib.sha256(Path(config.split_file).read_bytes()).hexdigest()
    return resolved


def normalize(config: RunConfig) -> RunConfig:
    """Coerce ``--set`` values to the hyperparameters' types (so "0.7" and 0.7 are one run)."""
    import dataclasses

    from xbench import methods
    from xbench.methods.base import coerce

    if config.method not in methods.registry or not config.hparams:
        return config
    declared = methods.get(config.method).hyperparameters
    hp = []
    for key, value in config.hparams:
        if key in declared:
            try:
                value = coerce(value, declared[key].default)
            except ValueError:
                pass  # reported by validate()
        hp.append((key, value))
    return dataclasses.replace(config, hparams=tuple(hp))


def validate(configs: list[RunConfig]) -> list[str]:
    """All configuration errors of a grid (empty when it is valid)."""
    from xbench import datasets, methods, noise

    errors: list[str] = []
    seen: set[str] = set()

    def add(msg: str) -> None:
        if msg not in seen:
            seen.add(msg)
            errors.append(msg)

    for cfg in configs:
        try:
            cls = methods.get(cfg.method)
        except KeyError as exc:
            add(f"--methods: {exc}")
            cls = None
        try:
            datasets.get(cfg.dataset)
        except KeyError as exc:
            add(f"--datasets: {exc}")
        try:
            spec = noise.NoiseSpec.parse(cfg.noise)
            noise.registry.get(spec.kind)
        except KeyError as exc:
            add(f"--noise: {exc}")
        except ValueError as exc:
            add(f"--noise: {exc}")
        if cls is not None:
            message = cls.check_bits(cfg.bits)
            if message:
                add(f"--bits: {message}")
            try:
                cls.resolve_hyperparameters(cfg.hparams_dict)
            except ValueError as exc:
                add(f"--set: {exc}")
        if cfg.split_file and not Path(cfg.split_file).is_file():
            add(f"--split-file {cfg.split_file}: no such file")
    return errors


def parse_devices(spec: str) -> list[str]:
    """``auto`` → all visible GPUs (or cpu); ``cpu``; ``cuda``; ``cuda:0,cuda:1``."""
    import torch

    spec = (spec or "auto").strip()
    if spec == "auto":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return [f"cuda:{i}" for i in range(n)] or ["cpu"]
    devices = [d.strip() for d in spec.split(",") if d.strip()]
    for d in devices:
        if d == "cpu":
            continue
        if not d.startswith("cuda"):
            raise GridError(f"--device '{d}': expected auto, cpu, cuda or cuda:N[,cuda:M]")
        if not torch.cuda.is_available():
            raise GridError(f"--device '{d}': CUDA is not available on this machine")
        index = int(d.split(":")[1]) if ":" in d else 0
        if index >= torch.cuda.device_count():
            raise GridError(f"--device '{d}': only {torch.cuda.device_count()} GPU(s) visible")
    return devices


def plan(configs: list[RunConfig], results: str | Path, devices: list[str], force: bool = False
         ) -> tuple[list[Cell], list[Cell]]:
    """(cells to run, cells already done), ids computed and duplicates removed."""
    todo, done, ids = [], [], set()
    for cfg in configs:
        rid = cfg.run_id(resolve_identity(cfg))
        if rid in ids:
            continue
        ids.add(rid)
        cell = Cell(cfg, rid)
        if not force and store.is_done(results, cfg.dataset, cfg.method, rid):
            done.append(cell)
        else:
            todo.append(cell)
    for i, cell in enumerate(todo):
        cell.device = devices[i % len(devices)]
    return todo, done


def _worker(cell: Cell, data_root: str, threads: int | thread_policy.ThreadPlan, progress: bool = False
            ) -> RunResult:
    """Runs in a worker process (or in-process for jobs=1). ``threads``: torch threads (0: leave them),
    or a plan giving them by the cell's image kind (its dataset is loaded once, cached for the run)."""
    from .runner import execute, load_dataset

    if isinstance(threads, thread_policy.ThreadPlan):
        try:
            kind = load_dataset(cell.config, data_root)[0].image_kind
        except Exception:  # noqa: BLE001 - the run itself reports the problem as a failed result
            kind = "features"
        threads = threads.threads_for(kind)
    if threads:
        thread_policy.apply_threads(threads)
    return execute(cell.config, data_root=data_root, device=cell.device, run_id=cell.run_id, progress=progress)


def write_split(results: str | Path, result: RunResult) -> Path | None:
    """Write the run's split next to the results (``splits/<dataset>-<checksum>.npz``), once."""
    import numpy as np
    from xbench.datasets import Split, splits

    arrays, info = result.arrays, result.split
    if not all(f"{p}_index" in arrays for p in ("query", "train", "database")):
        return None
    split = Split(*(np.asarray(arrays[f"{p}_index"], dtype=np.int64) for p in ("query", "train", "database")),
                  source=info.get("source", ""), protocol=info.get("protocol") or "disjoint")
    path = Path(results) / "splits" / splits.split_filename(result.config["dataset"], split)
    if not path.exists():
        splits.write_split(split, path, num_items=info.get("num_items"))
    result.split["file"] = str(path.relative_to(results))
    return path


def threads_per_job(jobs: int) -> int:
    return max(1, thread_policy.usable_cores() // max(1, jobs))


def run_cells(cells: list[Cell], results: str | Path, data_root: str | Path, jobs: int | None = 1,
              backend: str = "local", scheduler: str | None = None, quiet: bool = False,
              on_result: Callable[[RunResult], None] | None = None, threads: int | None = None,
              log: Callable[[str], None] | None = None) -> list[RunResult]:
    """Execute ``cells`` and store each result as it arrives. ``jobs=None``: ``--jobs auto``;
    ``threads``: torch threads per cell (None: the policy of :mod:`xbench.threads`)."""
    from joblib import Parallel, delayed

    gpus = len({c.device for c in cells if c.device.startswith("cuda")})
    policy = thread_policy.plan(len(cells), jobs, threads, gpus=gpus,
                                parallel_ok=jobs is not None or thread_policy.fresh_process_knows(
                                    [c.config for c in cells]))
    jobs = policy.jobs
    if log:
        log(f"threads: {policy.reason}")

    show = not quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), desc="runs", unit="run")
    out: list[RunResult] = []

    def accept(result: RunResult) -> None:
        if result.status == "ok":
            write_split(results, result)
        store.save_result(results, result)
        out.append(result)
        if on_result:
            on_result(result)
        if bar is not None:
            bar.update(1)

    try:
        if backend == "dask":
            from dask.distributed import Client
            from joblib import parallel_config

            with Client(scheduler) as client, parallel_config(backend="dask"):
                n_workers = max(1, len(client.scheduler_info().get("workers", {})))
                threads = 0  # workers keep their own thread settings
                gen = Parallel(n_jobs=n_workers, return_as="generator_unordered")(
                    delayed(_worker)(cell, str(data_root), threads) for cell in cells)
                for result in gen:
                    accept(result)
        elif jobs <= 1 or len(cells) <= 1:
            for cell in cells:
                accept(_worker(cell, str(data_root), policy, progress=show and len(cells) >= 1))
        else:
            gen = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
                delayed(_worker)(cell, str(data_root), policy) for cell in cells)
            for result in gen:
                accept(result)
    finally:
        if bar is not None:
            bar.close()
    return out
