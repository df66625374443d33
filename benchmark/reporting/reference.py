"""Published numbers kept as data for ``xbench report --compare paper``, and how ours are matched to them.

The shipped CSV files are package data (``xbench/reporting/published/*.csv``, in the source tree
``benchmark/reporting/published/``), so ``--compare paper`` works from an installed wheel as well as from
a checkout; ``benchmark/reporting/published/README.md`` lists their sources and columns. Each CSV holds one
published value per row with the columns of :data:`COLUMNS`; every row names its source (paper,
table) so a comparison can cite it. Users may keep their own CSV files with the same columns in
``results/reference/`` under the working directory (read in addition to the shipped ones) or
point ``--reference DIR`` at a folder (read instead of them).

Matching (:func:`matching`): a published number is set beside ours only when the experimental
setting is the same in every dimension the CSV records:

* ``noise`` — the noise **model** and rate (``mrl:0.2`` is MRL's generator, not ``symmetric:0.2``);
* ``per_modality`` — ``true``/``false``: independent noisy labels per modality or one shared label
  (ours: the realised ``per_modality`` of the run's noise; empty = not stated, matches either);
* ``protocol`` — the split protocol: empty = the dataset's default split, otherwise the value of
  the run's ``dataset_options.protocol`` (e.g. ``mrl`` on ``wikipedia``);
* ``retrieval`` — ``hamming`` (hash codes) or ``cosine``/``euclidean`` (real-valued outputs);
* ``selection`` — ``validation`` (best-validation epoch) or ``last``; empty = not stated, matches
  either (the table notes say so).

The ``note`` column of every matched source is printed under the comparison table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from xbench.errors import XbenchError
from xbench.reporting.results import normalise_noise

#: Columns of a reference CSV.
COLUMNS = (
    "source",
    "tag",
    "table",
    "dataset",
    "dataset_paper",
    "method",
    "method_paper",
    "task",
    "bits",
    "noise",
    "topk",
    "metric",
    "value",
    "per_modality",
    "protocol",
    "retrieval",
    "selection",
    "note",
)
_REQUIRED = ("source", "tag", "dataset", "method", "task", "noise", "topk", "value")
#: Optional setting columns and the value assumed when a (user) CSV leaves them out.
_DEFAULTS = {"per_modality": "", "protocol": "", "retrieval": "hamming", "selection": ""}
USER_DIR = Path("results") / "reference"


def packaged_reference_dir() -> Path:
    """The folder of the shipped published-number CSVs (package data ``xbench/reporting/published``)."""
    return Path(__file__).resolve().parent / "published"


def default_reference_dir() -> Path:
    """Kept for callers of the old API: the shipped folder."""
    return packaged_reference_dir()


def _read(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path,
            dtype={
                "topk": str,
                "noise": str,
                "task": str,
                "per_modality": str,
                "protocol": str,
                "retrieval": str,
                "selection": str,
            },
            keep_default_na=False,
            na_values={"bits": [""], "value": [""]},
        )
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise XbenchError(f"{path}: unreadable reference CSV ({exc})") from None
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise XbenchError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    bad_task = sorted(set(frame["task"]) - {"i2t", "t2i"})
    if bad_task:
        raise XbenchError(f"{path}: column 'task' must be i2t or t2i, got {', '.join(bad_task)}")
    try:
        frame["value"] = frame["value"].astype(float)
        frame["bits"] = pd.to_numeric(frame["bits"], errors="raise") if "bits" in frame else float("nan")
    except (TypeError, ValueError) as exc:
        raise XbenchError(f"{path}: 'value' and 'bits' must be numbers ({exc})") from None
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = _DEFAULTS.get(col, "")
    frame["per_modality"] = [_flag(v, path) for v in frame["per_modality"]]
    for col in ("protocol", "retrieval", "selection"):
        frame[col] = [str(v).strip().lower() for v in frame[col]]
    frame["retrieval"] = [v or "hamming" for v in frame["retrieval"]]
    bad = sorted(set(frame["retrieval"]) - {"hamming", "cosine", "euclidean"}) + sorted(
        set(frame["selection"]) - {"", "last", "validation"}
    )
    if bad:
        raise XbenchError(
            f"{path}: 'retrieval' must be hamming/cosine/euclidean and 'selection' empty/last/"
            f"validation, got {', '.join(bad)}"
        )
    frame["file"] = path.name
    return frame


def _flag(value: Any, path: Path) -> str:
    text = str(value).strip().lower()
    if text in ("", "true", "false"):
        return text
    if text in ("1", "yes"):
        return "true"
    if text in ("0", "no"):
        return "false"
    raise XbenchError(f"{path}: column 'per_modality' must be true, false or empty, got {value!r}")


def load_reference(folder: str | Path | None = None) -> pd.DataFrame:
    """All published values: the CSV files of ``folder``, or (None) the shipped ones plus any in
    ``./results/reference/``. ``bits`` empty = real-valued features."""
    if folder is not None:
        folders = [Path(folder)]
        if not folders[0].is_dir():
            raise XbenchError(
                f"--reference {folder}: no such folder (expected a folder of published-number "
                "CSV files, see the columns in xbench's published/README.md)"
            )
    else:
        folders = [packaged_reference_dir()] + ([USER_DIR] if USER_DIR.is_dir() else [])
    frames = [_read(path) for f in folders for path in sorted(f.glob("*.csv"))]
    if not frames:
        raise XbenchError(f"--reference {folders[0]}: no .csv files with published numbers")
    out = pd.concat(frames, ignore_index=True)
    out["noise"] = [normalise_noise(n) for n in out["noise"]]
    out["topk"] = [str(t).strip() or "all" for t in out["topk"]]
    return out


def run_setting(row: Any) -> dict[str, str]:
    """The matching dimensions of one of our result rows (a row of the annotated results frame)."""

    def get(key: str, default: Any) -> Any:
        value = row.get(key, default) if hasattr(row, "get") else default
        return default if value is None or (isinstance(value, float) and math.isnan(value)) else value

    return {
        "noise": normalise_noise(get("noise", "none")),
        "per_modality": "true" if bool(get("per_modality", get("noise_per_modality", False))) else "false",
        "protocol": str(get("split_protocol", "")).strip().lower(),
        "retrieval": str(get("retrieval", "hamming")) or "hamming",
        "selection": str(get("selection", "last")) or "last",
    }


_LABELS = {
    "noise": "noise model",
    "per_modality": "per-modality noise",
    "protocol": "split protocol",
    "retrieval": "retrieval",
    "selection": "epoch selection",
}


def _show(key: str, value: str) -> str:
    if key == "protocol":
        return value or "the dataset's default"
    if key == "selection":
        return {"validation": "best validation", "last": "last epoch"}.get(value, value or "not stated")
    return value


def matching(reference: pd.DataFrame, row: Any) -> tuple[pd.DataFrame, str]:
    """The published rows with the same setting as our ``row`` (see the module docstring), and, when
    there are none, why: the first dimension that differs, with our value and the published ones."""
    ours = run_setting(row)
    ref = reference
    for key in ("noise", "per_modality", "protocol", "retrieval", "selection"):
        col = ref[key].astype(str)
        keep = col == ours[key]
        if key in ("per_modality", "selection"):
            keep |= col == ""  # not stated: matches either
        if not keep.any():
            published = ", ".join(sorted({_show(key, v) for v in col})) or "none"
            return ref.iloc[0:0], f"{_LABELS[key]}: ours {_show(key, ours[key])}, published {published}"
        ref = ref[keep]
    return ref, ""
