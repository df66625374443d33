"""The thread policy of ``xbench run``: how many cells run at once and how many torch threads each uses.

Features-mode networks are small: every op is short, so a torch thread pool mostly adds
synchronisation, and when another process competes for the cores the pool's threads wait for
each other (oversubscription: one step of a 128×1000→516 linear layer took 37 ms with 2 threads
on 2 busy cores against 3.3 ms with 1 thread). The policy therefore never gives a features-mode
cell more than one thread and gets its parallelism from cells instead:

* ``--jobs auto`` (the default) on the CPU runs ``min(cells, free cores // threads per cell)``
  cells at once, in worker processes that are reused from cell to cell (each imports torch once);
  a single cell runs in the calling process. *Free* cores are the usable cores less those other
  processes keep busy when the grid starts (:func:`busy_cores`: the median over a few samples of
  the kernel's count of runnable processes, less this one; ``/proc/stat``, Linux; 0 elsewhere):
  with one competing busy process on 2 cores a second job would only share that process's core
  (``python -m xbench.perf.threads``: 1 job took 29 s where 2 took 36–38 s);
* a features-mode cell uses 1 torch thread (intra-op and inter-op); a raw-image cell (a CNN
  backbone, large convolutions) uses ``usable cores // jobs``, so one raw-image cell gets all cores;
* ``--threads N`` sets the torch threads of every cell, and so does an explicit
  ``OMP_NUM_THREADS`` (``--threads`` wins); ``--jobs N`` sets the number of cells at once;
* with GPUs, ``--jobs auto`` runs one cell per device at once.

Cells of a method, dataset or noise model that a fresh worker process cannot find (one
registered at run time by the calling program rather than built in or installed as an entry
point) run in the calling process: ``--jobs auto`` then means one job.

``python -m xbench.perf.threads`` compares this policy with the alternatives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, else the CPU count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def busy_cores(samples: int = 5, interval: float = 0.02, stat: str = "/proc/stat") -> int:
    """Cores other processes keep busy now: the median of ``samples`` readings of the kernel's
    ``procs_running`` (runnable tasks, this process included) less one; 0 where it cannot be read."""
    import statistics
    import time

    readings = []
    for i in range(samples):
        try:
            with open(stat) as f:
                running = next(
                    (int(line.split()[1]) for line in f if line.startswith("procs_running ")), None
                )
        except (OSError, ValueError, IndexError):
            return 0
        if running is None:
            return 0
        readings.append(running)
        if i + 1 < samples:
            time.sleep(interval)
    return max(0, int(statistics.median_low(readings)) - 1)


def env_threads(environ: dict[str, str] | None = None) -> int | None:
    """``OMP_NUM_THREADS`` when it is set to a positive integer (an explicit choice), else None."""
    value = (os.environ if environ is None else environ).get("OMP_NUM_THREADS", "").strip()
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 1 else None


def parse_jobs(value: str | int | None) -> int | None:
    """``--jobs``: 'auto' (or None) → None; a positive integer → itself. Raises ValueError otherwise."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"--jobs: expected 'auto' or a positive integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"--jobs: expected 'auto' or a positive integer, got {value!r}")
    return n


@dataclass(frozen=True)
class ThreadPlan:
    """Cells at once (``jobs``) and torch threads per features-mode / raw-image cell."""

    jobs: int
    features_threads: int
    images_threads: int
    reason: str

    def threads_for(self, image_kind: str) -> int:
        return self.images_threads if image_kind == "images" else self.features_threads


def plan(
    cells: int,
    jobs: int | None = None,
    threads: int | None = None,
    gpus: int = 0,
    cores: int | None = None,
    environ: dict[str, str] | None = None,
    parallel_ok: bool = True,
    busy: int = 0,
) -> ThreadPlan:
    """The policy above for a grid of ``cells`` cells. ``jobs``/``threads``: the options (None = auto);
    ``busy``: cores other processes keep busy (:func:`busy_cores`), left out of ``--jobs auto``."""
    cores = usable_cores() if cores is None else max(1, cores)
    free = max(1, cores - max(0, busy))
    explicit = threads if threads else env_threads(environ)
    source = "--threads" if threads else "OMP_NUM_THREADS" if explicit else "default"
    if jobs is None:
        if not parallel_ok or cells <= 1:
            jobs = 1
        elif gpus:
            jobs = min(cells, gpus)
        else:
            jobs = max(1, min(cells, free // (explicit or 1)))
        how = "auto"
    else:
        how = "--jobs"
    jobs = max(1, min(jobs, max(1, cells)))
    features = explicit or 1
    images = explicit or max(1, (free if how == "auto" else cores) // jobs)
    others = f", {cores - free} busy with other processes" if how == "auto" and free < cores else ""
    reason = (
        f"{jobs} job(s) ({how}) on {cores} usable core(s){others}; torch threads per cell: features {features}, "
        f"raw images {images} ({source})"
    )
    return ThreadPlan(jobs, features, images, reason)


def apply_threads(n: int) -> None:
    """Set torch's intra-op threads to ``n`` and, when still possible, its inter-op threads too."""
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        if torch.get_num_interop_threads() != n:
            torch.set_num_interop_threads(n)
    except RuntimeError:  # inter-op pool already started in this process: it keeps its size
        pass


def fresh_process_knows(configs) -> bool:
    """Whether a fresh worker process finds every config's method, dataset and noise model: each is
    built in or comes from an installed entry point (not registered at run time by the caller)."""
    import importlib.metadata

    from xbench import datasets, methods, noise

    cache: dict[tuple[str, str], bool] = {}

    def known(wing, name: str) -> bool:
        if (wing.__name__, name) not in cache:
            if name not in wing.registry:
                ok = True  # an unknown name is a configuration error, reported before anything runs
            else:
                entry = wing.registry.get(name)
                group = importlib.metadata.entry_points(group=wing.registry.group)
                ok = any(entry is b for b in wing.BUILTINS) or name in {ep.name for ep in group}
            cache[(wing.__name__, name)] = ok
        return cache[(wing.__name__, name)]

    for cfg in configs:
        dataset = "files" if cfg.dataset.startswith("files:") else cfg.dataset
        kind = noise.NoiseSpec.parse(cfg.noise).kind
        if not (known(methods, cfg.method) and known(datasets, dataset) and known(noise, kind)):
            return False
    return True
