"""The results store: one JSON file per run (plus an ``.npz`` of array side data).

Layout: ``<results>/runs/<dataset>/<method>/<run_id>.json`` and ``<run_id>.npz`` beside it.
Writes are atomic (temp file in the same folder, fsync, rename) and the JSON is written
last, so a run counts as done only once its JSON exists; a crash mid-write leaves at most a
``.tmp-<pid>-<host>-*`` file, which loaders ignore and the next ``xbench run`` removes
(:func:`xbench.claims.clean_temp_files`). A run stored again (``--force``) replaces its
``.npz`` too: a failed rerun removes the old one, so no codes of another run remain; the JSON
records the SHA-256 of the ``.npz`` it was written with (``arrays_sha256``). :func:`load_results`
reads a results folder into a pandas DataFrame with one row per run and task.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .config import RunResult

TASKS = ("i2t", "t2i")


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def run_dir(results: str | Path, dataset: str, method: str) -> Path:
    return Path(results) / "runs" / _safe(dataset) / _safe(method)


def result_path(results: str | Path, dataset: str, method: str, run_id: str) -> Path:
    return run_dir(results, dataset, method) / f"{run_id}.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    from .claims import temp_prefix

    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=path.suffix, dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are ordinary files
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None if np.isnan(obj) else (1e308 if obj > 0 else -1e308)
    return obj


def save_result(results: str | Path, result: RunResult) -> Path:
    """Store one run: the ``.npz`` (if any arrays) first, then the JSON; returns the JSON path.

    Without arrays (a failed run) an ``.npz`` left by an earlier run of the same id is removed
    once the new JSON is in place, so its codes can never be read as this run's.
    """
    import hashlib

    cfg = result.config
    path = result_path(results, cfg["dataset"], cfg["method"], result.run_id)
    npz = path.with_suffix(".npz")
    payload = result.to_json()
    if result.arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **{k: np.asarray(v) for k, v in result.arrays.items()})
        data = buf.getvalue()
        atomic_write_bytes(npz, data)
        payload["arrays_file"] = npz.name
        payload["arrays_sha256"] = hashlib.sha256(data).hexdigest()
    atomic_write_text(path, json.dumps(_jsonable(payload), indent=1, sort_keys=True))
    if not result.arrays:
        npz.unlink(missing_ok=True)
    return path


def is_done(results: str | Path, dataset: str, method: str, run_id: str, include_failed: bool = False) -> bool:
    """True if a complete result for ``run_id`` exists (failed runs count only if asked)."""
    path = result_path(results, dataset, method, run_id)
    if not path.exists():
        return False
    try:
        status = json.loads(path.read_text()).get("status")
    except (OSError, ValueError):
        return False
    return status == "ok" or include_failed


def iter_results(results: str | Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every readable result JSON under ``results`` (temp files and unreadable files skipped)."""
    root = Path(results)
    base = root / "runs" if (root / "runs").is_dir() else root
    for path in sorted(base.rglob("*.json")):
        if path.name.startswith(".tmp-"):
            continue
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "run_id" in data and "config" in data:
            yield path, data


def load_arrays(json_path: str | Path) -> dict[str, np.ndarray]:
    """The array side data of a run (empty if it has none)."""
    npz = Path(json_path).with_suffix(".npz")
    if not npz.exists():
        return {}
    with np.load(npz, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def load_results(results: str | Path = "results"):
    """A pandas DataFrame with one row per (run, task); failed runs have task None and an error."""
    import pandas as pd

    from .selection import variant_rows

    rows = []
    for path, data in iter_results(results):
        cfg = data["config"]
        noise = str(cfg.get("noise", "none"))
        kind, _, rate = noise.partition(":")
        base = {
            "run_id": data["run_id"], "path": str(path), "status": data.get("status"),
            "method": cfg.get("method"), "dataset": cfg.get("dataset"), "bits": cfg.get("bits"),
            "noise": noise, "noise_type": kind, "noise_rate": float(rate) if rate else 0.0,
            "seed": cfg.get("seed"), "epochs": data.get("extra", {}).get("epochs", cfg.get("epochs")),
            "hparams": json.dumps(cfg.get("hparams", {}), sort_keys=True),
            "group": cfg.get("group", ""), "error": data.get("error"),
            "train_seconds": data.get("timings", {}).get("train"),
        }
        for key, value in (cfg.get("hparams") or {}).items():
            base[f"hp.{key}"] = value
        metrics = data.get("metrics") or {}
        if data.get("status") != "ok" or not metrics:
            rows.append({**base, "task": None})
            continue
        for task in TASKS:
            m = metrics.get(task) or {}
            rows.append({**base, "task": task, "topk": m.get("topk"), "map": m.get("map"),
                         "map_tie_averaged": m.get("map_tie_averaged"),
                         "precision_radius2": m.get("precision_radius2")})
        for v in variant_rows(metrics):  # real-valued retrieval / validation-selected epoch (xbench.selection)
            m = v["metrics"]
            rows.append({**base, "task": v["task"], "topk": m.get("topk"), "map": m.get("map"),
                         "map_tie_averaged": m.get("map_tie_averaged"), "precision_radius2": None,
                         "retrieval": v["retrieval"], "selection": v["selection"],
                         "selected_epoch": v["selected_epoch"]})
    columns = ["run_id", "path", "status", "method", "dataset", "bits", "noise", "noise_type", "noise_rate",
               "seed", "epochs", "hparams", "group", "error", "train_seconds", "task", "topk", "map",
               "map_tie_averaged", "precision_radius2", "retrieval", "selection", "selected_epoch"]
    frame = pd.DataFrame(rows)
    for col in columns:
        if col not in frame.columns:
            frame[col] = None
    frame["retrieval"] = frame["retrieval"].fillna("hamming")
    frame["selection"] = frame["selection"].fillna("last")
    return frame
