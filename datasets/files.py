"""``files:PATH``: your own data in one ``.npz``, ``.h5`` or ``.mat`` file.

The file holds three arrays with one row per item:

* ``image`` — N×D features or N×3×H×W / N×H×W×3 uint8 images (MATLAB files: H×W×3×N);
  looked up as ``image``, ``images``, ``features`` unless ``image_key`` names it;
* ``text`` — N×T bag of words (non-negative integers) or dense features (``text``, ``texts``,
  ``tags``; ``text_key``);
* ``labels`` — N×C 0/1 multi-hot, or a length-N vector of class indices (``labels``, ``label``;
  ``labels_key``; 1-based indices with ``label_base=1``);

and optionally the split as index arrays ``query``, ``train``, ``database`` (0-based; pass
``index_base=1`` for MATLAB's 1-based indices). Missing parts are completed: no ``database``
→ every row that is not a query; no ``train`` → the database. Without any index arrays the
seeded standard split is drawn: ``num_query`` = min(2000, max(1, N // 10)) queries, the rest
the database, and its first ``num_train`` = min(10000, N − num_query) permuted items the
training set (train ⊂ database; ``seed`` option, default 0).

A relative PATH is looked up in the working directory, then under the data root. Options:
``image_key``, ``text_key``, ``labels_key``, ``query_key``, ``train_key``, ``database_key``,
``index_base``, ``label_base``, ``seed``, ``num_query``, ``num_train``, ``protocol`` (of the
file's split, default ``disjoint``), ``image`` (a features file used instead, as for the paper
datasets), ``image_layout``, ``topk`` (``auto``: 5000 when the database exceeds 5,000 items,
else all; a number; or ``all``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import CrossModalData, Split
from .checks import as_labels, as_text, check_counts
from .entry import DatasetEntry
from .errors import DatasetError, DatasetFileNotFoundError
from .matfile import ArrayFile
from .sources import check_options, image_from_variable, read_image_file
from .splits import standard_split, validate_split

DEFAULTS: dict[str, Any] = {
    "path": None,
    "image_key": None,
    "text_key": None,
    "labels_key": None,
    "query_key": "query",
    "train_key": "train",
    "database_key": "database",
    "index_base": 0,
    "label_base": 0,
    "seed": 0,
    "num_query": None,
    "num_train": None,
    "protocol": None,
    "image": "auto",
    "image_layout": None,
    "topk": "auto",
}
IMAGE_KEYS = ("image", "images", "features")
TEXT_KEYS = ("text", "texts", "tags")
LABEL_KEYS = ("labels", "label")


def resolve_path(path: str | Path, data_root: str | Path) -> Path:
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.is_absolute() and (Path(data_root) / p).is_file():
        return Path(data_root) / p
    raise DatasetFileNotFoundError(
        f"files:{path}: no such file (looked in the working directory and under the data root {data_root}); expected "
        "an .npz, .h5 or .mat file with image, text and labels arrays"
    )


def _key(af: ArrayFile, given: str | None, candidates: tuple[str, ...], role: str) -> str:
    return af.require(given, role) if given else af.require_any(candidates, role)


def _index(af: ArrayFile, key: str, base: int, where: str) -> np.ndarray | None:
    if key not in af:
        return None
    arr = np.asarray(af.read(key))
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.number)):
        raise DatasetError(f"{where}: '{key}' must be a 1-d array of row indices, got shape {arr.shape}")
    if arr.size and not np.all(arr == np.round(arr)):
        raise DatasetError(f"{where}: '{key}' must hold integer row indices")
    return arr.astype(np.int64) - int(base)


def load_files(data_root: str | Path, **options: Any) -> CrossModalData:
    """Load a user's file (module docstring); ``path`` is required."""
    opts = check_options("files", options, DEFAULTS)
    if not opts["path"]:
        raise DatasetError("files: no path given; use files:PATH (e.g. --datasets files:mydata.npz)")
    path = resolve_path(opts["path"], data_root)
    name = f"files:{opts['path']}"
    af = ArrayFile(path)
    t_key = _key(af, opts["text_key"], TEXT_KEYS, "text")
    l_key = _key(af, opts["labels_key"], LABEL_KEYS, "labels")
    text, text_kind = as_text(af.read(t_key), f"{path}: '{t_key}'")
    if int(opts["label_base"]) not in (0, 1):
        raise DatasetError(f"{name}: label_base must be 0 or 1, got {opts['label_base']}")
    labels = as_labels(af.read(l_key), f"{path}: '{l_key}'", one_based=int(opts["label_base"]) == 1)
    n = len(labels)
    check_counts(name, [(f"'{t_key}' rows", len(text)), (f"'{l_key}' rows", n)])
    if opts["image"] not in ("auto", None, ""):
        image_path = Path(opts["image"]).expanduser()
        if not image_path.is_file() and (path.parent / image_path).is_file():
            image_path = path.parent / image_path
        if not image_path.is_file():
            raise DatasetFileNotFoundError(f"{name}: image file '{opts['image']}' not found")
        image, image_kind, _ = read_image_file(image_path, n, None, opts["image_layout"], labels)
    else:
        i_key = _key(af, opts["image_key"], IMAGE_KEYS, "image")
        image, image_kind = image_from_variable(af, i_key, n, opts["image_layout"])

    where = f"{path}"
    base = int(opts["index_base"])
    if base not in (0, 1):
        raise DatasetError(f"{name}: index_base must be 0 or 1, got {base}")
    q = _index(af, opts["query_key"], base, where)
    tr = _index(af, opts["train_key"], base, where)
    db = _index(af, opts["database_key"], base, where)
    if q is None and (tr is not None or db is not None):
        raise DatasetError(
            f"{where}: has '{opts['train_key'] if tr is not None else opts['database_key']}' but no "
            f"'{opts['query_key']}' index array; give query indices too (or none at all)"
        )
    if q is not None:
        if db is None:
            db = np.setdiff1d(np.arange(n, dtype=np.int64), q)
        if tr is None:
            tr = db.copy()
        split = validate_split(
            Split(q, tr, db, source=f"index arrays in {path.name}", protocol=opts["protocol"] or "disjoint"),
            n,
            where=where,
        )
    else:
        nq = int(opts["num_query"]) if opts["num_query"] is not None else min(2000, max(1, n // 10))
        nt = int(opts["num_train"]) if opts["num_train"] is not None else min(10000, n - nq)
        split = standard_split(n, nq, nt, int(opts["seed"]), name)
    topk = opts["topk"]
    if topk in ("auto", None):
        topk = 5000 if len(split.database) > 5000 else None
    elif topk in ("all", "none"):
        topk = None
    else:
        try:
            topk = int(topk)
        except (TypeError, ValueError):
            raise DatasetError(f"{name}: topk must be 'auto', 'all' or a number, got {topk!r}") from None
    class_names = None
    if "class_names" in af:
        raw = np.asarray(af.read("class_names")).reshape(-1)
        if raw.dtype.kind in "US" and len(raw) == labels.shape[1]:
            class_names = [str(x.decode() if isinstance(x, bytes) else x) for x in raw]
    if image_kind == "features" or isinstance(image, np.ndarray):
        af.close()
    return CrossModalData(
        name=name,
        image=image,
        text=text,
        labels=labels,
        image_kind=image_kind,
        text_kind=text_kind,
        split=split,
        class_names=class_names,
        default_topk=topk,
        meta={"title": f"user file {path}", "form": af.format, "files": [str(path)]},
    )


ENTRY = DatasetEntry(
    name="files",
    loader=load_files,
    available=lambda root: False,
    paper=False,
    order=60,
    description="files:PATH — your own .npz/.h5/.mat with image, text, labels (+ optional query/train/database "
    "index arrays)",
    options={k: v for k, v in DEFAULTS.items() if k != "path"},
)
