"""Published numbers kept as data (``results/reference/*.csv``) for ``xbench report --compare paper``.

Each CSV holds one published value per row with the columns of :data:`COLUMNS`; every row
names its source (paper, table) so a comparison can cite it. The shipped files are copied
from the papers' tables (see ``results/reference/README.md``). Users may add
their own CSV files with the same columns to the folder (or point ``--reference`` at another
folder).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import XbenchError
from .results import normalise_noise

#: Required columns of a reference CSV.
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
    "note",
)
_REQUIRED = ("source", "tag", "dataset", "method", "task", "noise", "topk", "value")


def default_reference_dir() -> Path:
    """``results/reference`` under the working directory if it exists, else the one shipped beside the
    source tree (editable installs)."""
    here = Path("results") / "reference"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "results" / "reference"


def load_reference(folder: str | Path | None = None) -> pd.DataFrame:
    """All published values of the CSV files in ``folder`` (``bits`` empty = real-valued features)."""
    folder = Path(folder) if folder is not None else default_reference_dir()
    if not folder.is_dir():
        raise XbenchError(
            f"--reference {folder}: no such folder (expected the published-number CSV files of "
            "results/reference/)"
        )
    frames = []
    for path in sorted(folder.glob("*.csv")):
        try:
            frame = pd.read_csv(
                path,
                dtype={"topk": str, "noise": str, "task": str},
                keep_default_na=False,
                na_values={"bits": [""], "value": [""]},
            )
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise XbenchError(f"{path}: unreadable reference CSV ({exc})") from None
        missing = [c for c in _REQUIRED if c not in frame.columns]
        if missing:
            raise XbenchError(
                f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
            )
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
                frame[col] = ""
        frame["file"] = path.name
        frames.append(frame)
    if not frames:
        raise XbenchError(f"--reference {folder}: no .csv files with published numbers")
    out = pd.concat(frames, ignore_index=True)
    out["noise"] = [normalise_noise(n) for n in out["noise"]]
    out["topk"] = [str(t).strip() or "all" for t in out["topk"]]
    return out
