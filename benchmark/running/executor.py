"""Executing a grid: validation up front, resume, parallel/GPU/Dask execution, storing results.

* **Validation** (:func:`validate`): every cell is checked — method, dataset and noise
  names, noise rate, supported code length, ``--set`` keys and values — and all problems are
  reported together before anything trains.
* **Resume**: a cell whose result JSON exists with status ``ok`` is skipped unless
  ``force``; failed cells are retried.
* **Shared folders**: each cell is claimed atomically just before it runs
  (:mod:`xbench.running.claims`), so several ``xbench run`` processes on one results folder (terminals,
  a SLURM job array) train each cell once.
* **Interruption**: SIGINT/SIGTERM release the claims and stop the worker processes; workers
  also stop by themselves when the parent process disappears (even after SIGKILL).
* **Parallelism**: ``jobs > 1`` runs cells in joblib worker processes (loky, reused from cell to
  cell); the thread policy (:mod:`xbench.running.threads`: ``jobs=None`` is ``--jobs auto``, features-mode
  cells get one torch thread) sets each cell's threads; ``devices`` spreads cells round-robin over GPUs.
* **Dask**: ``backend="dask"`` sends cells to an existing cluster through joblib's Dask
  backend; results travel back to this process, which stores them (no shared filesystem is
  needed for results; the data root must be readable on the workers).

Results are stored by the client process as each cell finishes, atomically, so killing the
process at any moment loses at most the cells in flight.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xbench.running import claims, store
from xbench.running import threads as thread_policy
from xbench.running.config import RunConfig, RunResult
from xbench.running.grid import GridError


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


def file_fingerprint(path: Path, cache: dict[tuple[str, int, int], str] | None = None) -> str:
    """SHA-256 of a file's content (cached by path, size and modification time within one call)."""
    import hashlib

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if cache is not None and key in cache:
        return cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if cache is not None:
        cache[key] = digest.hexdigest()
    return digest.hexdigest()


def resolve_identity(
    config: RunConfig, data_root: str | Path = "data", cache: dict[tuple[str, int, int], str] | None = None
) -> dict[str, Any]:
    """Values folded into the run id beyond the config: resolved hyperparameters, file content hashes.

    Every hyperparameter enters with its resolved value (defaults included) and, without
    ``--epochs``, the method's ``default_epochs``, so a changed default gives new run ids rather
    than reusing results made under the old one. Code changes that keep every default are
    covered only by the package version (``RunConfig.version``).

    A split file and a ``files:PATH`` dataset enter by the SHA-256 of their content, so
    replacing the file gives new run ids (the old results are not reported as the new data's).
    """
    from xbench import methods

    cls = methods.get(config.method)
    hp = config.hparams_dict
    resolved: dict[str, Any] = {
        "hp_features": cls.resolve_hyperparameters(hp, features_mode=True),
        "hp_raw": cls.resolve_hyperparameters(hp, features_mode=False),
    }
    if config.epochs is None:  # the budget then comes from the method (scaled by the dataset's meta)
        resolved["default_epochs"] = int(cls.default_epochs)
    if config.split_file:
        resolved["split_sha256"] = file_fingerprint(Path(config.split_file), cache)
    if config.dataset.startswith("files:"):
        from xbench.datasets.files import resolve_path

        source = resolve_path(config.dataset[len("files:") :], data_root)
        resolved["files_sha256"] = file_fingerprint(source, cache)
    return resolved


def normalize(config: RunConfig) -> RunConfig:
    """One spelling per value before hashing run ids.

    ``--set`` values are coerced to the hyperparameters' types (so "0.7" and 0.7 are one
    run) and noise specs are written canonically (``Symmetric:0.60`` → ``symmetric:0.6``).
    """
    import dataclasses

    from xbench import methods
    from xbench.methods.base import coerce
    from xbench.running.preflight import canonical_noise

    config = dataclasses.replace(config, noise=canonical_noise(config.noise))
    if config.method not in methods.registry or not config.hparams:
        return config
    declared = methods.get(config.method).hyperparameters
    hp = []
    for key, value in config.hparams:
        if key in declared:
            try:
                value = coerce(value, declared[key].default)
            except (ValueError, OverflowError, TypeError):
                pass  # reported by validate()
        hp.append((key, value))
    return dataclasses.replace(config, hparams=tuple(hp))


def validate(configs: list[RunConfig]) -> list[str]:
    """All configuration errors of a grid that need no data (empty when it is valid)."""
    from xbench.running.preflight import check_configs

    return check_configs(configs)


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


def plan(
    configs: list[RunConfig],
    results: str | Path,
    devices: list[str],
    force: bool = False,
    data_root: str | Path = "data",
) -> tuple[list[Cell], list[Cell]]:
    """(cells to run, cells already done), ids computed and duplicates removed."""
    todo, done, ids = [], [], set()
    cache: dict[tuple[str, int, int], str] = {}
    for cfg in configs:
        rid = cfg.run_id(resolve_identity(cfg, data_root, cache))
        if rid in ids:
            continue
        ids.add(rid)
        cell = Cell(cfg, rid)
        if not force and store.is_done(results, cfg.dataset, cfg.method, rid):
            done.append(cell)
        else:
            todo.append(cell)
    todo.sort(key=expected_epochs, reverse=True)  # stable: ties keep the grid's order
    for i, cell in enumerate(todo):
        cell.device = devices[i % len(devices)]
    return todo, done


def expected_epochs(cell: Cell) -> int:
    """The cell's epoch budget before any dataset scaling (``--epochs``, else the method's default).

    :func:`plan` starts the longest cells first (longest-processing-time order, with epochs as
    the proxy for time), so that parallel workers do not end on one long cell while the
    others idle; results never depend on the order.
    """
    from xbench import methods

    if cell.config.epochs is not None:
        return int(cell.config.epochs)
    return int(methods.get(cell.config.method).default_epochs)


def _watch_parent(parent_pid: int, period: float = 1.0) -> None:
    """In a worker process: exit as soon as the process that started the grid is gone.

    Started once per worker (a daemon thread named ``xbench-parent-watchdog``), so workers of
    a grid whose parent was killed (even with SIGKILL) stop within about ``period`` seconds.
    """
    import threading

    if parent_pid <= 0 or parent_pid == os.getpid():
        return
    if any(t.name == "xbench-parent-watchdog" for t in threading.enumerate()):
        return
    from xbench.running.claims import pid_alive

    first_ppid = os.getppid()

    def loop() -> None:
        import time

        while True:
            time.sleep(period)
            # reparented (the parent died, even if not yet reaped) or the grid's process is gone
            if os.getppid() != first_ppid or not pid_alive(parent_pid):
                os._exit(1)

    threading.Thread(target=loop, name="xbench-parent-watchdog", daemon=True).start()


#: RSS growth a loky worker may show before loky restarts it. loky takes a worker's size after its
#: first task and replaces the worker (which then imports torch again: seconds) once it has grown by
#: 300 MB; cells of different methods grow a worker that much without leaking (allocator caches:
#: 835 MB after the first cell of the main job, 1.08 GB by its end). xbench allows this much instead.
WORKER_GROWTH_BYTES = 4 << 30


def tolerate_worker_growth() -> None:
    """In a loky worker: raise loky's memory-leak bound to :data:`WORKER_GROWTH_BYTES` (never lower it)."""
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # pragma: no cover - joblib internals moved
        return
    bound = getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", None)
    if isinstance(bound, int) and bound < WORKER_GROWTH_BYTES:
        process_executor._MAX_MEMORY_LEAK_SIZE = WORKER_GROWTH_BYTES


def _worker(
    cell: Cell,
    data_root: str,
    threads: int | thread_policy.ThreadPlan,
    progress: bool = False,
    parent_pid: int = 0,
) -> RunResult:
    """Runs in a worker process (or in-process for jobs=1). ``threads``: torch threads (0: leave them),
    or a plan giving them by the cell's image kind (its dataset is loaded once, cached for the run)."""
    from xbench.running.runner import execute, load_dataset

    _watch_parent(parent_pid)
    if parent_pid:  # a loky worker of this grid
        tolerate_worker_growth()
    if isinstance(threads, thread_policy.ThreadPlan):
        try:
            kind = load_dataset(cell.config, data_root)[0].image_kind
        except Exception:  # noqa: BLE001 - the run itself reports the problem as a failed result
            kind = "features"
        threads = threads.threads_for(kind)
    if threads:
        thread_policy.apply_threads(threads)
    return execute(
        cell.config, data_root=data_root, device=cell.device, run_id=cell.run_id, progress=progress
    )


def write_split(results: str | Path, result: RunResult) -> Path | None:
    """Write the run's split next to the results (``splits/<dataset>-<checksum>.npz``), once."""
    import numpy as np

    from xbench.datasets import Split, splits

    arrays, info = result.arrays, result.split
    if not all(f"{p}_index" in arrays for p in ("query", "train", "database")):
        return None
    split = Split(
        *(np.asarray(arrays[f"{p}_index"], dtype=np.int64) for p in ("query", "train", "database")),
        source=info.get("source", ""),
        protocol=info.get("protocol") or "disjoint",
    )
    path = Path(results) / "splits" / splits.split_filename(result.config["dataset"], split)
    if not path.exists():
        splits.write_split(split, path, num_items=info.get("num_items"))
    result.split["file"] = str(path.relative_to(results))
    return path


def threads_per_job(jobs: int) -> int:
    return max(1, thread_policy.usable_cores() // max(1, jobs))


def claim_path(results: str | Path, cell: Cell) -> Path:
    return store.result_path(results, cell.config.dataset, cell.config.method, cell.run_id).with_suffix(
        claims.CLAIM_SUFFIX
    )


def handled_elsewhere(results: str | Path, cell: Cell, since: float, force: bool) -> bool:
    """Whether the cell needs no run here: done (unless ``force``) or stored by anyone after ``since``."""
    path = store.result_path(results, cell.config.dataset, cell.config.method, cell.run_id)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return False
    if mtime > since:  # strictly: file times are coarse (a few ms), an older file can share the tick
        return True
    return not force and store.is_done(results, cell.config.dataset, cell.config.method, cell.run_id)


def stop_local_workers() -> None:
    """Kill joblib's loky workers of this process (after an interrupt, or once a grid's results are
    all stored: idle workers holding torch take seconds to exit at interpreter shutdown)."""
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:  # pragma: no cover - joblib internals moved
        return
    running = getattr(reusable_executor, "_executor", None)
    if running is not None:
        running.shutdown(wait=False, kill_workers=True)


def run_cells(
    cells: list[Cell],
    results: str | Path,
    data_root: str | Path,
    jobs: int | None = 1,
    backend: str = "local",
    scheduler: str | None = None,
    quiet: bool = False,
    on_result: Callable[[RunResult], None] | None = None,
    force: bool = False,
    stale_after: float = claims.DEFAULT_STALE_AFTER,
    busy: list[Cell] | None = None,
    threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> list[RunResult]:
    """Execute ``cells`` and store each result as it arrives.

    Each cell is claimed (:mod:`xbench.running.claims`) just before it is handed to a worker and
    skipped if another process holds it or stored its result since this run started, so any
    number of processes can share one results folder; skipped cells are appended to ``busy``.
    Leftover temp files of interrupted writes are removed first. On an interrupt the claims
    are released and the worker processes are stopped. ``jobs=None``: ``--jobs auto``; ``threads``:
    torch threads per cell (None: the policy of :mod:`xbench.running.threads`).
    """
    from joblib import Parallel, delayed

    gpus = len({c.device for c in cells if c.device.startswith("cuda")})
    policy = thread_policy.plan(
        len(cells),
        jobs,
        threads,
        gpus=gpus,
        parallel_ok=jobs is not None or thread_policy.fresh_process_knows([c.config for c in cells]),
        busy=thread_policy.busy_cores() if jobs is None and not gpus and len(cells) > 1 else 0,
    )
    jobs = policy.jobs
    if log:
        log(f"threads: {policy.reason}")

    show = not quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), desc="runs", unit="run")
    out: list[RunResult] = []
    busy = busy if busy is not None else []
    Path(results).mkdir(parents=True, exist_ok=True)
    since = claims._fs_now(Path(results))
    claims.clean_temp_files(results, since, stale_after)
    book = claims.ClaimBook(stale_after)
    me = os.getpid()

    def claimed(pending: list[Cell]):
        for cell in pending:
            if handled_elsewhere(results, cell, since, force):
                busy.append(cell)
                continue
            path = claim_path(results, cell)
            if not book.try_claim(path):
                busy.append(cell)
                continue
            if handled_elsewhere(results, cell, since, force):  # finished just before our claim
                book.release(path)
                busy.append(cell)
                continue
            yield cell

    def accept(result: RunResult) -> None:
        if result.status == "ok":
            write_split(results, result)
        store.save_result(results, result)
        book.release(
            store.result_path(
                results, result.config["dataset"], result.config["method"], result.run_id
            ).with_suffix(claims.CLAIM_SUFFIX)
        )
        out.append(result)
        if on_result:
            on_result(result)
        if bar is not None:
            bar.update(1)

    try:
        with book:
            if backend == "dask":
                from dask.distributed import Client
                from joblib import parallel_config

                with Client(scheduler) as client, parallel_config(backend="dask"):
                    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
                    threads = 0  # workers keep their own thread settings
                    gen = Parallel(n_jobs=n_workers, return_as="generator_unordered")(
                        delayed(_worker)(cell, str(data_root), threads) for cell in claimed(cells)
                    )
                    for result in gen:
                        accept(result)
            elif jobs <= 1 or len(cells) <= 1:
                for cell in claimed(cells):
                    accept(_worker(cell, str(data_root), policy, progress=show))
            else:
                gen = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(
                    delayed(_worker)(cell, str(data_root), policy, parent_pid=me) for cell in claimed(cells)
                )
                try:
                    for result in gen:
                        accept(result)
                except BaseException:
                    stop_local_workers()
                    raise
    finally:
        if bar is not None:
            bar.close()
    return out
