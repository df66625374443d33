"""The results layer: the one reader of stored runs (``runs/**/*.json`` and the ``.npz`` beside).

Every consumer of results — ``xbench report``, ``plot``, ``check``/``baseline``, the comparison
with published numbers and the statistics — reads runs through this module; no other module
parses a result file. It gives

* :class:`RunRecord` — one stored run, typed (configuration, status, per-task
  :class:`TaskResult`, history, timings …). Fields this version does not know flow through:
  every value stored for a task stays in :attr:`TaskResult.values`, unknown top-level fields in
  :attr:`RunRecord.extras`;
* :func:`load` — a :class:`ResultSet` of the records of a results folder and the
  :class:`Damaged` files that were skipped (unparsable JSON, or a JSON of the wrong shape), each
  with a one-line reason naming the file;
* :func:`to_frame` / :func:`load_runs` — one pandas DataFrame with one row per run × task (the
  column list is in ``docs/reports.md`` and :data:`BASE_COLUMNS`);
* the row selections every consumer shares: :func:`ok_rows` (successful rows with a value, one
  per seed and cell) and :func:`failed_runs`, and :func:`summarise` (mean ± sample std over seeds).

Damaged files never stop a reader: they are skipped and reported (:func:`load_runs` calls
``on_damaged`` once per file, by default :func:`warnings.warn`); ``xbench check`` counts them as
failures. Temporary files of interrupted writes (``.tmp-*``) and other hidden files are ignored.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xbench.errors import XbenchError
from xbench.reporting.display import method_display

TASKS = ("i2t", "t2i")
#: ``--metric`` name → the DataFrame column holding it.
METRIC_COLUMNS = {"map": "map", "map_tie": "map_tie_averaged"}
METRIC_NAMES = {"map": "mAP@R", "map_tie": "tie-averaged mAP@R"}
#: Per-task scalar metrics with a column of their own (other scalars get one too, see :func:`to_frame`).
TASK_SCALARS = ("topk", "map", "map_tie_averaged", "precision_radius2")
#: Top-level fields of a result file that :class:`RunRecord` reads into typed fields.
KNOWN_FIELDS = frozenset(
    {
        "run_id", "config", "status", "metrics", "history", "noise", "split", "hyperparameters",
        "timings", "environment", "error", "extra", "schema", "arrays_file", "arrays_sha256",
        "health",
    }
)  # fmt: skip


class DamagedResult(ValueError):
    """A result file that cannot be read as a run (the message names the file and the problem)."""


class ResultWarning(UserWarning):
    """A damaged result file was skipped."""


@dataclass(frozen=True)
class Damaged:
    """A result file that was skipped, and why (one line)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped damaged result {self.path}: {self.reason}"


@dataclass(frozen=True, eq=False)
class TaskResult:
    """The evaluation of one retrieval task (``i2t`` or ``t2i``) of a run.

    ``values`` holds everything stored for the task (scalars, curves such as ``pr_radius``,
    and whatever later versions add); the typed fields are the ones every table needs.
    """

    task: str
    topk: int | None
    map: float | None
    map_tie_averaged: float | None
    precision_radius2: float | None
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def curve(self, key: str) -> dict[str, Any]:
        """A stored curve (e.g. ``pr_radius``, ``topn_precision``, ``recall_at_k``); {} if absent."""
        value = self.values.get(key)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, eq=False)
class RunRecord:
    """One stored run, as written by :func:`xbench.running.store.save_result`.

    Compared and hashed by identity (it holds dicts), so a frame's ``record`` column survives
    pandas operations that hash values.
    """

    path: Path
    run_id: str
    status: str
    method: str
    dataset: str
    bits: int
    noise: str  # normalised (see normalise_noise)
    seed: int
    epochs: int | None  # the epoch budget the run used (extra.epochs, else config.epochs)
    hparams: dict[str, Any]  # the user's overrides (--set)
    resolved: dict[str, Any]  # every hyperparameter as the method resolved it
    noise_per_modality: bool
    assumed_noise_rate: float | None
    split_file: str | None
    dataset_options: dict[str, Any]
    group: str
    error: str | None
    tasks: dict[str, TaskResult]
    history: list[dict[str, Any]]
    timings: dict[str, Any]
    noise_stats: dict[str, Any]  # the realised noise statistics (the file's "noise" field)
    split: dict[str, Any]
    environment: dict[str, Any]
    extra: dict[str, Any]  # the file's "extra" field (epochs, topk, method state …)
    metrics: dict[str, Any]  # the file's "metrics" field, unchanged (also non-task entries)
    extras: dict[str, Any]  # top-level fields this version does not know, unchanged
    config: dict[str, Any]  # the stored configuration, unchanged
    mtime: float
    arrays_file: str | None = None
    arrays_sha256: str | None = None  # SHA-256 of the .npz the run was stored with (when recorded)
    health: dict[str, Any] = field(
        default_factory=dict
    )  # code health (xbench.evaluating.health), when stored

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def noise_type(self) -> str:
        return self.noise.partition(":")[0]

    @property
    def noise_rate(self) -> float:
        return noise_rate(self.noise)

    @property
    def protocol(self) -> str:
        """The non-default parts of the noise protocol, e.g. ``per-modality; assumed ρ=0.4``."""
        parts = []
        if self.per_modality:
            parts.append("per-modality")
        if self.assumed_noise_rate is not None:
            parts.append(f"assumed ρ={float(self.assumed_noise_rate):g}")
        if self.split_file:
            parts.append(f"split={Path(str(self.split_file)).name}")
        if self.dataset_options:
            parts.append("options " + ",".join(f"{k}={v}" for k, v in sorted(self.dataset_options.items())))
        return "; ".join(parts)

    @property
    def per_modality(self) -> bool:
        """Whether the noisy labels differ per modality: asked for, or realised (``mrl:ρ`` always is)."""
        return bool(self.noise_per_modality or self.noise_stats.get("per_modality"))

    @property
    def split_protocol(self) -> str:
        """The split protocol: the ``protocol`` dataset option (e.g. ``mrl``), a custom split file, or ""."""
        return str(self.dataset_options.get("protocol", "")) or ("custom split" if self.split_file else "")

    @property
    def setting(self) -> str:
        """The noise setting a table groups by: the noise, then the protocol (``; ``-separated)."""
        return self.noise + (f"; {self.protocol}" if self.protocol else "")

    def arrays(self) -> dict[str, np.ndarray]:
        """The run's array side data (codes, noisy labels, per-sample losses …); {} if it has none.

        Raises :class:`DamagedResult` (naming the file) when the ``.npz`` cannot be read, or when
        the run recorded the SHA-256 of its ``.npz`` and the file on disk is another one (e.g. left
        by an earlier run of the same id): its codes are then not this run's.
        """
        npz = self.path.with_suffix(".npz")
        if not npz.exists():
            return {}
        try:
            blob = npz.read_bytes()
            if self.arrays_sha256 is not None and hashlib.sha256(blob).hexdigest() != self.arrays_sha256:
                raise DamagedResult(f"{npz}: not the array file this run stored (SHA-256 differs)")
            with np.load(io.BytesIO(blob), allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except DamagedResult:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib, ValueError, OSError …: any unreadable archive
            raise DamagedResult(f"{npz}: unreadable array file ({type(exc).__name__}: {exc})") from None

    def history_series(self, name: str) -> dict[int, float]:
        """``{epoch: value}`` of a finite per-epoch number in the history (e.g. ``test_i2t``)."""
        out = {}
        for entry in self.history:
            value, epoch = _finite(entry.get(name)), entry.get("epoch")
            if value is not None and isinstance(epoch, int) and not isinstance(epoch, bool):
                out[epoch] = value
        return out


@dataclass
class ResultSet:
    """The readable runs of a results folder and the damaged files that were skipped."""

    root: Path
    records: list[RunRecord]
    damaged: list[Damaged]

    def frame(self) -> pd.DataFrame:
        return to_frame(self.records)


# ------------------------------------------------------------------------------------- normalising


def normalise_noise(noise: Any) -> str:
    """``symmetric:0.60`` → ``symmetric:0.6``; ``Symmetric:0.6`` → ``symmetric:0.6``; ``none``/``clean``/
    empty → ``none``; a spec whose rate is not a number is kept as written."""
    text = str(noise if noise is not None else "none").strip()
    kind, sep, rate = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("none", "clean", ""):
        return "none"
    if not sep:
        return kind
    try:
        return f"{kind}:{float(rate):g}"
    except ValueError:
        return f"{kind}:{rate.strip()}"


def noise_rate(noise: str) -> float:
    """ρ of a normalised noise spec (0 for ``none`` or a non-numeric rate)."""
    try:
        return float(noise.partition(":")[2] or 0.0)
    except ValueError:
        return 0.0


def r_label(topk: Any) -> str:
    """R of mAP@R as text: a number, or ``all`` (topk null = the whole database)."""
    if topk is None or (isinstance(topk, float) and math.isnan(topk)):
        return "all"
    try:
        return str(int(topk))
    except (TypeError, ValueError):
        return str(topk)


def method_label(method: str, hparams: dict[str, Any], epochs: Any = None) -> str:
    """Row label: display name, user overrides in brackets, epochs when they distinguish runs."""
    label = method_display(method)
    if hparams:
        label += " [" + ", ".join(f"{k}={v}" for k, v in sorted(hparams.items())) + "]"
    if epochs is not None:
        label += f" ({int(epochs)} ep)"
    return label


# ------------------------------------------------------------------------------------- reading


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _where(name: str, problem: str) -> DamagedResult:
    return DamagedResult(f"{name} {problem}")


def _int(value: Any, name: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise _where(name, f"must be an integer, got {value!r}")
    return int(value)


def _num(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _where(name, f"must be a number or null, got {value!r}")
    return float(value)


def _str(value: Any, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value):
        raise _where(name, f"must be a non-empty string, got {value!r}")
    return value


def _dict(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _where(name, f"must be an object, got {type(value).__name__}")
    return value


def _list_of_dicts(value: Any, name: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _where(name, "must be a list of objects")
    return value


def _task(task: str, value: Any) -> TaskResult:
    m = _dict(value, f"metrics.{task}")
    topk = m.get("topk")
    if isinstance(topk, str) and topk.lower() in ("all", "none"):
        topk = None
    return TaskResult(
        task=task,
        topk=_int(topk, f"metrics.{task}.topk", optional=True),
        map=_num(m.get("map"), f"metrics.{task}.map"),
        map_tie_averaged=_num(m.get("map_tie_averaged"), f"metrics.{task}.map_tie_averaged"),
        precision_radius2=_num(m.get("precision_radius2"), f"metrics.{task}.precision_radius2"),
        values=m,
    )


def parse_run(data: Any, path: Path, mtime: float = 0.0) -> RunRecord:
    """The :class:`RunRecord` of a parsed result document; :class:`DamagedResult` if its shape is wrong."""
    if not isinstance(data, dict):
        raise DamagedResult(f"expected a JSON object, got {type(data).__name__}")
    missing = [k for k in ("run_id", "config") if k not in data]
    if missing:
        raise DamagedResult(f"not a run result (no {' or '.join(missing)})")
    cfg = _dict(data["config"], "config")
    status = _str(data.get("status"), "status")
    metrics = _dict(data.get("metrics"), "metrics")
    extra = _dict(data.get("extra"), "extra")
    epochs = extra.get("epochs", cfg.get("epochs"))
    hparams = _dict(cfg.get("hparams"), "config.hparams")
    npm = cfg.get("noise_per_modality", False)
    if not isinstance(npm, bool):
        raise _where("config.noise_per_modality", f"must be true or false, got {npm!r}")
    error = data.get("error")
    return RunRecord(
        path=path,
        run_id=_str(data["run_id"], "run_id"),
        status=status,
        method=_str(cfg.get("method"), "config.method"),
        dataset=_str(cfg.get("dataset"), "config.dataset"),
        bits=_int(cfg.get("bits"), "config.bits"),
        noise=normalise_noise(_str(cfg.get("noise", "none"), "config.noise", optional=True)),
        seed=_int(cfg.get("seed", 0), "config.seed"),
        epochs=_int(epochs, "extra.epochs", optional=True),
        hparams=dict(hparams),
        resolved=dict(_dict(data.get("hyperparameters"), "hyperparameters")),
        noise_per_modality=npm,
        assumed_noise_rate=_num(cfg.get("assumed_noise_rate"), "config.assumed_noise_rate"),
        split_file=_str(cfg.get("split_file"), "config.split_file", optional=True) or None,
        dataset_options=dict(_dict(cfg.get("dataset_options"), "config.dataset_options")),
        group=str(cfg.get("group") or ""),
        error=None if error is None else str(error),
        tasks={t: _task(t, metrics[t]) for t in TASKS if metrics.get(t) is not None},
        history=_list_of_dicts(data.get("history"), "history"),
        timings=_dict(data.get("timings"), "timings"),
        noise_stats=_dict(data.get("noise"), "noise"),
        split=_dict(data.get("split"), "split"),
        environment=_dict(data.get("environment"), "environment"),
        extra=extra,
        metrics=metrics,
        extras={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        config=cfg,
        mtime=mtime,
        arrays_file=_str(data.get("arrays_file"), "arrays_file", optional=True),
        arrays_sha256=_str(data.get("arrays_sha256"), "arrays_sha256", optional=True),
        health=_dict(data.get("health"), "health"),
    )


def read_run(path: str | Path) -> RunRecord:
    """Read one result file; :class:`DamagedResult` (with the reason, without the path) if it cannot be."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except UnicodeDecodeError:
        raise DamagedResult("not UTF-8 text") from None
    except OSError as exc:
        raise DamagedResult(f"unreadable ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DamagedResult(f"not valid JSON ({exc})") from None
    return parse_run(data, path, mtime)


def result_files(results: str | Path) -> Iterator[Path]:
    """Every result file under a results folder (``runs/`` if present), hidden and temp files excluded."""
    root = Path(results)
    base = root / "runs" if (root / "runs").is_dir() else root
    for path in sorted(base.rglob("*.json")):
        if any(part.startswith(".") for part in path.relative_to(base).parts):
            continue
        yield path


def scan(results: str | Path) -> ResultSet:
    """Read every result file under ``results``; damaged ones are collected, never raised."""
    records, damaged = [], []
    for path in result_files(results):
        try:
            records.append(read_run(path))
        except DamagedResult as exc:
            damaged.append(Damaged(path, str(exc)))
    return ResultSet(Path(results), records, damaged)


def load(results: str | Path) -> ResultSet:
    """:func:`scan` after checking that ``results`` is a folder (one-line :class:`XbenchError` if not)."""
    root = Path(results)
    if not root.exists():
        raise XbenchError(f"--results {root}: no such folder")
    if not root.is_dir():
        raise XbenchError(f"--results {root}: not a folder (expected a results folder with runs/)")
    return scan(root)


def _warn(damaged: Damaged) -> None:
    warnings.warn(str(damaged), ResultWarning, stacklevel=3)


def load_runs(results: str | Path, on_damaged: Callable[[Damaged], None] | None = _warn) -> pd.DataFrame:
    """The results DataFrame of a folder (see :func:`to_frame`); damaged files are passed to
    ``on_damaged`` and skipped. :class:`XbenchError` if the folder holds no readable run."""
    found = load(results)
    for d in found.damaged:
        if on_damaged is not None:
            on_damaged(d)
    if not found.records:
        root = found.root
        extra = f"; {len(found.damaged)} damaged file(s) skipped" if found.damaged else ""
        raise XbenchError(
            f"--results {root}: no run results found (expected {root}/runs/DATASET/METHOD/"
            f"RUN_ID.json; run 'xbench run --results ...' first){extra}"
        )
    return found.frame()


# ------------------------------------------------------------------------------------- the frame

#: The columns every frame has (in this order), even an empty one. Further columns: ``hp.<name>``
#: per overridden hyperparameter, any other scalar stored for a task under its own name, and
#: ``extra.<name>`` / ``<field>.<name>`` for scalars of the ``extra`` field and of unknown
#: top-level fields.
BASE_COLUMNS = (
    "run_id", "path", "status", "method", "dataset", "bits", "noise", "noise_type", "noise_rate",
    "protocol", "setting", "seed", "epochs", "hparams", "hp", "resolved", "label", "group", "error",
    "train_seconds", "mtime", "unhealthy", "task", "topk", "r", "map", "map_tie_averaged", "precision_radius2",
    "record",
)  # fmt: skip


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def code_health(rec: RunRecord) -> dict[str, Any] | None:
    """The code health of a run (:mod:`xbench.evaluating.health`): its stored ``health`` field, else computed
    from the codes in its ``.npz``; None for a failed run, a run without codes, or a damaged ``.npz``."""
    from xbench.evaluating import health

    if not rec.ok:
        return None
    if rec.health:
        return rec.health
    try:
        arrays = rec.arrays()
    except DamagedResult:
        return None
    codes = {k: arrays[k] for k in ("query_image", "query_text", "db_image", "db_text") if k in arrays}
    return health.code_health(codes) if len(codes) == 4 else None


def _unhealthy(rec: RunRecord) -> bool:
    from xbench.evaluating import health

    return bool(health.problems(code_health(rec)))


def _run_columns(rec: RunRecord) -> dict[str, Any]:
    row = {
        "run_id": rec.run_id,
        "path": str(rec.path),
        "status": rec.status,
        "method": rec.method,
        "dataset": rec.dataset,
        "bits": rec.bits,
        "noise": rec.noise,
        "noise_type": rec.noise_type,
        "noise_rate": rec.noise_rate,
        "protocol": rec.protocol,
        "setting": rec.setting,
        "per_modality": rec.per_modality,
        "split_protocol": rec.split_protocol,
        "retrieval": "hamming",
        "selection": "last",
        "selected_epoch": None,
        "seed": rec.seed,
        "epochs": rec.epochs,
        "hparams": json.dumps(rec.hparams, sort_keys=True, default=str),
        "hp": rec.hparams,
        "resolved": rec.resolved,
        "group": rec.group,
        "error": rec.error,
        "train_seconds": _finite(rec.timings.get("train")),
        "mtime": rec.mtime,
        "unhealthy": _unhealthy(rec),
        "record": rec,
    }
    for key, value in rec.hparams.items():
        row[f"hp.{key}"] = value
    for key, value in rec.extra.items():
        if _is_scalar(value):
            row[f"extra.{key}"] = value
    for key, value in rec.extras.items():
        if _is_scalar(value):
            row.setdefault(key, value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                if _is_scalar(v):
                    row[f"{key}.{sub}"] = v
    return row


def variant_rows(metrics_json: dict[str, Any]) -> list[dict[str, Any]]:
    """``(retrieval, selection, selected_epoch, task, metrics)`` rows of a stored run's variants."""
    rows = []
    for v in metrics_json.get("variants") or []:
        if not isinstance(v, dict):
            continue
        for task in ("i2t", "t2i"):
            m = v.get(task)
            if isinstance(m, dict):
                rows.append(
                    {
                        "retrieval": str(v.get("retrieval", "hamming")),
                        "selection": str(v.get("selection", "last")),
                        "selected_epoch": v.get("epoch"),
                        "task": task,
                        "metrics": m,
                    }
                )
    return rows


def variant_protocol(retrieval: str, selection: str) -> str:
    """The part of a report setting that names a variant ("" for Hamming, last epoch)."""
    parts = [] if retrieval in ("", "hamming") else [f"{retrieval} retrieval"]
    if selection == "validation":
        parts.append("best-validation epoch")
    return "; ".join(parts)


def to_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per (run, task); a run without task results (failed) has one row with task None.

    Row labels (``label``) carry the epochs only where one method and set of overrides ran with
    several epoch budgets.
    """
    records = list(records)
    epochs_seen: dict[tuple[str, str], set[int]] = {}
    for rec in records:
        if rec.epochs is not None:
            key = (rec.method, json.dumps(rec.hparams, sort_keys=True, default=str))
            epochs_seen.setdefault(key, set()).add(rec.epochs)
    rows = []
    for rec in records:
        base = _run_columns(rec)
        several = len(epochs_seen.get((rec.method, base["hparams"]), ())) > 1
        base["label"] = method_label(rec.method, rec.hparams, rec.epochs if several else None)
        if not rec.ok or not rec.tasks:
            rows.append({**base, "task": None, "r": None})
            continue
        for task in TASKS:
            t = rec.tasks.get(task)
            if t is None:
                continue
            row = {
                **base,
                "task": task,
                "topk": t.topk,
                "r": r_label(t.topk),
                "map": t.map,
                "map_tie_averaged": t.map_tie_averaged,
                "precision_radius2": t.precision_radius2,
            }
            for key, value in t.values.items():
                if key not in TASK_SCALARS and _is_scalar(value):
                    row[key if key not in base else f"metrics.{key}"] = value
            rows.append(row)
        for v in variant_rows(
            rec.metrics
        ):  # real-valued retrieval / best-validation epoch (xbench.running.selection)
            m, extra_protocol = v["metrics"], variant_protocol(v["retrieval"], v["selection"])
            protocol = "; ".join(x for x in (base["protocol"], extra_protocol) if x)
            rows.append(
                {
                    **base,
                    "task": v["task"],
                    "topk": m.get("topk"),
                    "r": r_label(m.get("topk")),
                    "map": _finite(m.get("map")),
                    "map_tie_averaged": _finite(m.get("map_tie_averaged")),
                    "precision_radius2": None,
                    "retrieval": v["retrieval"],
                    "selection": v["selection"],
                    "selected_epoch": v["selected_epoch"],
                    "protocol": protocol,
                    "setting": rec.noise + (f"; {protocol}" if protocol else ""),
                }
            )
    frame = pd.DataFrame(rows)
    for col in BASE_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    rest = [c for c in frame.columns if c not in BASE_COLUMNS]
    return frame[list(BASE_COLUMNS) + rest]


# ------------------------------------------------------------------------------------- selections

#: The columns that identify a table cell (one value per seed).
CELL_KEYS = ["setting", "noise", "protocol", "method", "hparams", "label", "dataset", "bits", "task", "r"]


@dataclass(frozen=True)
class Stat:
    """Mean over seeds; ``std`` is the sample standard deviation (None for one seed)."""

    mean: float
    std: float | None
    n: int
    seeds: tuple[int, ...] = ()
    unhealthy: int = 0  # seeds whose codes are unhealthy (xbench.evaluating.health)


def summarise(values: Iterable[float], seeds: Iterable[int] = ()) -> Stat:
    """Mean and sample standard deviation (ddof = 1) of the per-seed values."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0:
        raise ValueError("summarise: no values")
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return Stat(mean, std, n, tuple(int(s) for s in seeds))


def ok_rows(frame: pd.DataFrame, metric: str = "map") -> tuple[pd.DataFrame, list[str]]:
    """The successful run × task rows with a finite value of ``metric`` (in column ``value``), one
    per seed and cell (the most recent file wins when a seed was stored twice); and notes about
    what was dropped."""
    column = METRIC_COLUMNS[metric]
    notes: list[str] = []
    ok = frame[(frame["status"] == "ok") & frame["task"].notna()].copy()
    ok["value"] = pd.to_numeric(ok[column], errors="coerce") if column in ok else float("nan")
    ok.loc[~np.isfinite(ok["value"].astype(float)), "value"] = float("nan")
    no_value = ok[ok["value"].isna()]
    if len(no_value):
        notes.append(f"{no_value['run_id'].nunique()} run(s) have no '{column}' value and are left out")
    ok = ok[ok["value"].notna()].sort_values("mtime", kind="stable")
    dups = ok.duplicated(CELL_KEYS + ["seed"], keep="last")
    if dups.any():
        notes.append(
            f"{int(dups.sum())} row(s) repeat a seed of the same cell (e.g. another xbench version); "
            "the most recent file is used"
        )
    return ok[~dups], notes


def failed_runs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One dict per failed run (label, method, dataset, bits, noise setting, seed, error, path)."""
    bad = frame[frame["status"] != "ok"].drop_duplicates("run_id")
    rows = []
    for _, r in bad.sort_values(["dataset", "method", "bits", "noise", "seed"], kind="stable").iterrows():
        rows.append(
            {
                "label": r["label"],
                "method": r["method"],
                "dataset": r["dataset"],
                "bits": r["bits"],
                "noise": r["setting"],
                "seed": r["seed"],
                "error": str(r["error"] or "unknown error"),
                "path": r["path"],
            }
        )
    return rows
