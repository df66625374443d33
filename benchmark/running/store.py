"""The results store: one JSON file per run (plus an ``.npz`` of array side data).

Layout: ``<results>/runs/<dataset>/<method>/<run_id>.json`` and ``<run_id>.npz`` beside it.
Writes are atomic (:mod:`xbench.atomic`: temp file in the same folder, fsync, rename) and the
JSON is written last, so a run counts as done only once its JSON exists; a crash mid-write leaves
at most a ``.tmp-<pid>-<host>-*`` file, which the reader ignores and the next ``xbench run``
removes (:func:`xbench.running.claims.clean_temp_files`). A run stored again (``--force``) replaces its
``.npz`` too: a failed rerun removes the old one, so no codes of another run remain; the JSON
records the SHA-256 of the ``.npz`` it was written with (``arrays_sha256``, checked by the
reader). This module is the writing side; results are read by :mod:`xbench.reporting.results` (the one
reader of result files).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from xbench.atomic import atomic_write_bytes, atomic_write_text
from xbench.running.config import RunResult

__all__ = ["atomic_write_bytes", "atomic_write_text", "is_done", "result_path", "run_dir", "save_result"]


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def run_dir(results: str | Path, dataset: str, method: str) -> Path:
    return Path(results) / "runs" / _safe(dataset) / _safe(method)


def result_path(results: str | Path, dataset: str, method: str, run_id: str) -> Path:
    return run_dir(results, dataset, method) / f"{run_id}.json"


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


#: zlib level of the ``.npz`` members: 1 compresses a 128-bit ``synthetic`` cell's arrays in ≈ 24 ms
#: against ≈ 160 ms at ``np.savez_compressed``'s 6 (files ≈ 40 % larger); the parent process of
#: ``xbench run`` stores every cell while the workers train, so this is CPU taken from them.
NPZ_COMPRESSLEVEL = 1


def npz_bytes(arrays: dict[str, Any], compresslevel: int = NPZ_COMPRESSLEVEL) -> bytes:
    """An ``.npz`` archive of ``arrays`` (what ``np.savez_compressed`` writes, at ``compresslevel``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        for name, value in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
    return buf.getvalue()


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
        data = npz_bytes({k: np.asarray(v) for k, v in result.arrays.items()})
        atomic_write_bytes(npz, data)
        payload["arrays_file"] = npz.name
        payload["arrays_sha256"] = hashlib.sha256(data).hexdigest()
    atomic_write_text(path, json.dumps(_jsonable(payload), indent=1, sort_keys=True))
    if not result.arrays:
        npz.unlink(missing_ok=True)
    return path


def is_done(
    results: str | Path, dataset: str, method: str, run_id: str, include_failed: bool = False
) -> bool:
    """True if a complete result for ``run_id`` exists (failed runs count only if asked).

    Reads only the ``status`` of the file this store wrote (a damaged file counts as not done, so
    the run is made again); everything else about stored runs is read by :mod:`xbench.reporting.results`.
    """
    path = result_path(results, dataset, method, run_id)
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, str):
        return False
    return status == "ok" or include_failed
