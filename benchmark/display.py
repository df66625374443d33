"""How methods, datasets and tasks are named and ordered in tables and figures.

One place for the display names and the row/column order used by :mod:`xbench.results` (row
labels), :mod:`xbench.report` (tables) and :mod:`xbench.plots` (figures). Methods follow the
order of the CMMQ paper's Table 2 (baselines first, CMMQ last); names not listed here (plugin
methods and datasets) are shown as they are and sorted alphabetically after the known ones.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

TASK_LABELS = {"i2t": "I→T", "t2i": "T→I"}
DATASET_ORDER = ("mirflickr25k", "nuswide", "mscoco", "wikipedia")
DATASET_NAMES = {
    "mirflickr25k": "MIRFlickr-25K",
    "nuswide": "NUS-WIDE",
    "mscoco": "MS-COCO",
    "wikipedia": "Wikipedia",
}
METHOD_ORDER = (
    "lsh",
    "bce",
    "dcmh",
    "prdh",
    "ssah",
    "cmhh",
    "mrl",
    "uot-rcl",
    "uot_rcl",
    "cmmq-code",
    "cmmq_code",
    "cmmq",
)
METHOD_NAMES = {
    "lsh": "LSH",
    "bce": "BCE",
    "dcmh": "DCMH",
    "prdh": "PRDH",
    "ssah": "SSAH",
    "cmhh": "CMHH",
    "mrl": "MRL",
    "uot-rcl": "UOT-RCL",
    "uot_rcl": "UOT-RCL",
    "cmmq-code": "CMMQ-code",
    "cmmq_code": "CMMQ-code",
    "cmmq": "CMMQ",
}


def method_display(method: str) -> str:
    """The display name of a method (``cmmq`` → ``CMMQ``; unknown names unchanged)."""
    return METHOD_NAMES.get(method, method)


def dataset_display(dataset: str) -> str:
    """The display name of a dataset (``mirflickr25k`` → ``MIRFlickr-25K``; unknown names unchanged)."""
    return DATASET_NAMES.get(dataset, dataset)


def ordered(values: Iterable[str], preferred: tuple[str, ...]) -> list[str]:
    """Distinct ``values``: those in ``preferred`` in its order, then the rest alphabetically."""
    values = list(dict.fromkeys(values))
    return [v for v in preferred if v in values] + sorted(v for v in values if v not in preferred)


def label_order(frame: pd.DataFrame) -> list[str]:
    """Row labels of a results frame: methods in the paper's order, each method's defaults first."""
    pairs = frame[["method", "label", "hparams"]].drop_duplicates()
    out: list[str] = []
    for m in ordered(pairs["method"], METHOD_ORDER):
        sub = pairs[pairs["method"] == m]
        out.extend(dict.fromkeys(sorted(sub["label"], key=lambda lab: (lab.count("["), lab))))
    return out
