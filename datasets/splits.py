"""Standard seeded splits, their validation, and split index files.

Standard splits (the CMMQ paper's Table 1; DCMH_demo.m L49-57 for MIRFlickr)
    MIRFlickr-25K 2,000 query / 10,000 train / the rest database; NUS-WIDE 2,100 / 10,500 /
    rest; MS-COCO 5,000 / 10,000 / rest. Train ⊂ database (protocol ``train-in-database``).
    :func:`standard_split` draws them from ``numpy.random.default_rng(seed).permutation(N)``:
    the first ``num_query`` permuted rows are the queries, all other rows the database, and the
    first ``num_train`` of those the training set. Each part is stored sorted. Peers' seeds
    (torchcmh 6/7/8, DCMH unseeded ``randperm``) did not make their splits reproducible, so
    xbench writes the indices themselves to a file with a checksum and records it with every
    result (seeds alone did not make peers' splits reproducible).

Split file format (``.npz``, written by :func:`write_split`)
    ========== =========================================================================
    key        content
    ========== =========================================================================
    query      int64, 0-based row indices of the query set
    train      int64, 0-based row indices of the training set
    database   int64, 0-based row indices of the retrieval database
    checksum   str, :meth:`Split.checksum` of the three arrays (verified on reading)
    protocol   str, ``disjoint`` / ``train-in-database`` / ``query-in-database`` (optional)
    num_items  int, rows of the dataset it was made for (optional; verified on reading)
    source     str, how the split was made (optional)
    ========== =========================================================================

    :func:`read_split_file` also accepts a ``.json`` object with the same keys (lists of ints).
    Row indices refer to the dataset's canonical row order (the file's row order; for pre-split
    and Wikipedia files, the concatenation documented with each loader).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from .base import SPLIT_PROTOCOLS, Split
from .errors import DatasetFileNotFoundError, SplitError
from .matfile import write_npz

PARTS = ("query", "train", "database")


def standard_split(num_items: int, num_query: int, num_train: int, seed: int = 0, name: str = "") -> Split:
    """The seeded query / train ⊂ database split (see the module docstring)."""
    num_items, num_query, num_train = int(num_items), int(num_query), int(num_train)
    label = f"{name}: " if name else ""
    if num_query < 1 or num_train < 1:
        raise SplitError(f"{label}num_query and num_train must be at least 1 (got {num_query}, {num_train})")
    if num_query + num_train > num_items:
        raise SplitError(
            f"{label}num_query + num_train = {num_query + num_train} exceeds the {num_items} items"
        )
    perm = np.random.default_rng(int(seed)).permutation(num_items).astype(np.int64)
    query = np.sort(perm[:num_query])
    database = np.sort(perm[num_query:])
    train = np.sort(perm[num_query : num_query + num_train])
    return Split(
        query, train, database, source=f"seeded permutation (seed {int(seed)})", protocol="train-in-database"
    )


def _as_index(value: Any, part: str, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise SplitError(f"{where}: '{part}' must be a 1-d index array, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise SplitError(f"{where}: '{part}' must hold integer row indices, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer) and (
        not np.isfinite(arr).all() or np.any(arr != np.round(arr))
    ):
        raise SplitError(f"{where}: '{part}' must hold integer row indices (found non-integers)")
    return arr.astype(np.int64)


def validate_split(split: Split, num_items: int, protocol: str | None = None, where: str = "split") -> Split:
    """Check ``split`` against ``num_items`` rows and its protocol; return it (protocol set).

    Always: every part non-empty, indices in [0, num_items), no repeats within a part,
    query ∩ train = ∅. Then per protocol (see :class:`Split`): query ∩ database = ∅
    (``disjoint``, ``train-in-database``) and train ⊂ database (``train-in-database``).
    Raises :class:`SplitError` with a one-line message.
    """
    protocol = protocol or split.protocol or "disjoint"
    if protocol not in SPLIT_PROTOCOLS:
        raise SplitError(f"{where}: unknown protocol '{protocol}'; valid: {', '.join(SPLIT_PROTOCOLS)}")
    parts = {p: _as_index(getattr(split, p), p, where) for p in PARTS}
    for p in PARTS:
        if parts[p].size == 0:
            raise SplitError(f"{where}: the {p} set is empty")
    for p, idx in parts.items():
        if idx.size and (idx.min() < 0 or idx.max() >= num_items):
            bad = idx[(idx < 0) | (idx >= num_items)]
            hint = " (1-based indices? subtract 1)" if idx.min() >= 1 and idx.max() == num_items else ""
            raise SplitError(
                f"{where}: {len(bad)} '{p}' index(es) out of range for {num_items} items "
                f"(e.g. {int(bad[0])}; valid 0..{num_items - 1}){hint}"
            )
        if np.unique(idx).size != idx.size:
            raise SplitError(f"{where}: '{p}' repeats {idx.size - np.unique(idx).size} index(es)")
    overlap = np.intersect1d(parts["query"], parts["train"])
    if overlap.size:
        raise SplitError(
            f"{where}: {overlap.size} item(s) are both query and train (e.g. row {int(overlap[0])}); "
            "queries must not be trained on"
        )
    if protocol in ("disjoint", "train-in-database"):
        overlap = np.intersect1d(parts["query"], parts["database"])
        if overlap.size:
            raise SplitError(
                f"{where}: {overlap.size} item(s) are both query and database (e.g. row "
                f"{int(overlap[0])}); protocol '{protocol}' needs them disjoint"
            )
    if protocol == "train-in-database":
        outside = np.setdiff1d(parts["train"], parts["database"])
        if outside.size:
            raise SplitError(
                f"{where}: {outside.size} train item(s) are not in the database (e.g. row "
                f"{int(outside[0])}); protocol 'train-in-database' needs train ⊂ database"
            )
    return Split(parts["query"], parts["train"], parts["database"], source=split.source, protocol=protocol)


def write_split(split: Split, path: str | Path, num_items: int | None = None) -> Path:
    """Write ``split`` as an index file (format in the module docstring), atomically."""
    arrays: dict[str, Any] = {p: np.asarray(getattr(split, p), dtype=np.int64) for p in PARTS}
    arrays["checksum"] = np.str_(split.checksum())
    arrays["protocol"] = np.str_(split.protocol)
    arrays["source"] = np.str_(split.source)
    if num_items is not None:
        arrays["num_items"] = np.int64(num_items)
    return write_npz(path, arrays)


def split_filename(dataset: str, split: Split) -> str:
    """``<dataset>-<checksum>.npz`` with the dataset name made file-safe (``files:a/b.npz`` → ``files-b``)."""
    if dataset.startswith("files:"):
        dataset = "files-" + Path(dataset[len("files:") :]).stem
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", dataset).strip("-") or "dataset"
    return f"{safe}-{split.checksum()}.npz"


def _load_split_arrays(path: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SplitError(f"split file {path}: not valid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise SplitError(f"split file {path}: expected a JSON object with query/train/database lists")
        return obj
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # noqa: BLE001 — anything unreadable is a user error here
        raise SplitError(
            f"split file {path}: not a readable .npz or .json split file ({type(exc).__name__})"
        ) from None


def read_split_file(path: str | Path, num_items: int, protocol: str | None = None) -> Split:
    """Read and validate a split index file (.npz as written by :func:`write_split`, or .json).

    ``protocol`` overrides the file's own (default ``disjoint``). Raises
    :class:`~xbench.datasets.errors.DatasetFileNotFoundError` or :class:`SplitError`.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetFileNotFoundError(f"split file {path}: no such file")
    arrays = _load_split_arrays(path)
    where = f"split file {path}"
    missing = [p for p in PARTS if p not in arrays]
    if missing:
        raise SplitError(
            f"{where}: missing {', '.join(missing)} (found: {', '.join(sorted(arrays)) or 'nothing'}); "
            "expected query, train and database index arrays"
        )

    def scalar(key: str) -> Any:
        value = arrays.get(key)
        return None if value is None else np.asarray(value).item()

    file_items = scalar("num_items")
    if file_items is not None and int(file_items) != int(num_items):
        raise SplitError(f"{where}: made for {int(file_items)} items, but the dataset has {num_items}")
    stated = scalar("protocol")
    raw = Split(
        *(_as_index(arrays[p], p, where) for p in PARTS),
        source=str(path),
        protocol=protocol or (str(stated) if stated else "disjoint"),
    )
    checksum = scalar("checksum")
    if checksum is not None and str(checksum) != raw.checksum():
        raise SplitError(
            f"{where}: checksum mismatch (file says {checksum}, indices give {raw.checksum()}); "
            "the indices were changed after the file was written"
        )
    return validate_split(raw, int(num_items), where=where)
