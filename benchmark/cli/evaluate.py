"""`xbench evaluate CODES.npz` — the suite's evaluator on codes saved by any repository."""

from __future__ import annotations

import json
import os
import sys
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xbench.errors import XbenchError

if TYPE_CHECKING:
    import numpy as np

KEYS = ("query_codes", "db_codes", "query_labels", "db_labels")

HELP = f"""Evaluate saved hash codes with the suite's exact metrics.

CODES.npz holds {", ".join(KEYS)}: codes as ±1 or 0/1 (items × bits), labels as multi-hot
rows (0/1) or 1-D class indices. Evaluate each direction (I→T, T→I) with its own file.

\b
Semantics (docs/metrics.md):
  d = (K − q·b)/2; relevant iff ≥ 1 shared label (or equal class);
  ranking by ascending d, ties by ascending database index;
  mAP@R: mean over all queries of AP = mean precision at the hits inside the top R,
    0 for a query without a hit there (R = --topk; 'all' = whole database);
  tie-averaged mAP@R: exact expected AP over random orders inside tied distances;
  P@N = hits in top N / N;  R@k = hits in top k / all relevant (0 if none);
  P@H≤2: per query, relevant / retrieved within d ≤ 2, empty = 0;
  with --pr-curve, PR by radius r = 0…K pooled over all query–item pairs (DCMH).
  Every query counts in every mean.

JSON keys: topk, map, map_tie_averaged, topn_precision, recall_at_k,
precision_radius2, semantics, plus the sizes; pr_radius with --pr-curve.

\b
Real-valued embeddings (--similarity cosine|euclidean): the same keys hold real
vectors (items × dimensions); the database is ranked by descending cosine similarity
or ascending Euclidean distance, ties (equal up to float64 rounding; identical vectors
always) broken by ascending database index for mAP and averaged for the tie-averaged
mAP. PR by radius and P@H≤2 do not apply and are left out (docs/mrl.md).
"""


def _parse_topk(value: str) -> int | None:
    if value.lower() == "all":
        return None
    try:
        k = int(value)
    except ValueError:
        raise XbenchError(f"--topk: expected a positive integer or 'all', got {value!r}") from None
    if k < 1:
        raise XbenchError(f"--topk: expected a positive integer or 'all', got {value!r}")
    return k


def _parse_cutoffs(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise XbenchError(f"--cutoffs: expected comma-separated positive integers, got {value!r}") from None
    if not out or min(out) < 1:
        raise XbenchError(f"--cutoffs: expected comma-separated positive integers, got {value!r}")
    return sorted(set(out))


_READ_ERRORS = (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error, KeyError, NotImplementedError)


def load_codes(path: str | Path) -> dict[str, np.ndarray]:
    """The four arrays of an evaluation file; a missing or unreadable file/key is an XbenchError."""
    import numpy as np  # here, not at import time: `xbench --help` stays light

    path = Path(path)
    if not path.is_file():
        raise XbenchError(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise XbenchError(f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise XbenchError(
            f"{path}: expected an .npz archive with keys {', '.join(KEYS)}, found a single array"
        )
    try:
        with data:
            missing = [k for k in KEYS if k not in data.files]
            if missing:
                raise XbenchError(f"{path}: missing key '{missing[0]}' (expected {', '.join(KEYS)})")
            return {k: np.asarray(data[k]) for k in KEYS}
    except _READ_ERRORS as exc:
        raise XbenchError(f"{path}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None


def evaluate_file(
    path: str | Path,
    topk: int | None = 5000,
    cutoffs: list[int] | None = None,
    similarity: str = "hamming",
    threads: int = 1,
    pr_curve: bool = False,
) -> dict[str, Any]:
    """Load, validate strictly (codes ±1 or 0/1, labels 0/1 or class indices) and evaluate.

    ``similarity`` other than ``hamming`` reads the codes as real-valued embeddings
    (:mod:`xbench.evaluating.realvalued`). ``threads``: CPU threads of the Hamming evaluator.
    ``pr_curve``: also the pooled PR-by-radius curve (Hamming codes only; it needs every
    query–item pair counted, the other metrics only each query's top R)."""
    from xbench.evaluating import metrics

    arrays = load_codes(path)
    if similarity != "hamming":
        from xbench.evaluating import realvalued

        try:
            metrics._label_kind(arrays["query_labels"], "query_labels", True)
            metrics._label_kind(arrays["db_labels"], "db_labels", True)
            return realvalued.evaluate(
                arrays["query_codes"],
                arrays["db_codes"],
                arrays["query_labels"],
                arrays["db_labels"],
                similarity=similarity,
                topk=topk,
                curves=True,
                cutoffs=cutoffs,
            )
        except metrics.MetricInputError as exc:
            message = str(exc).replace("query_embeddings", "query_codes").replace("db_embeddings", "db_codes")
            raise XbenchError(f"{path}: {message}") from None
    try:
        return metrics.evaluate(
            arrays["query_codes"],
            arrays["db_codes"],
            arrays["query_labels"],
            arrays["db_labels"],
            topk=topk,
            curves=True,
            cutoffs=cutoffs,
            strict=True,
            threads=threads,
            pr_curve=pr_curve,
        )
    except metrics.MetricInputError as exc:
        hint = (
            " (real-valued embeddings? pass --similarity cosine or euclidean)"
            if "values must be ±1 or 0/1" in str(exc)
            else ""
        )
        raise XbenchError(f"{path}: {exc}{hint}") from None


def format_table(result: dict[str, Any], source: str = "") -> str:
    """A plain-text rendering of :func:`metrics.evaluate`'s dict."""
    r = result["topk"]
    rtxt = "all" if r is None else str(r)
    size = (
        f"{result['bits']} bits"
        if "bits" in result
        else f"{result['dim']}-d embeddings, {result['similarity']}"
    )
    head = f"{result['num_queries']} queries × {result['num_database']} database items, {size}"
    lines = [
        f"{source}: {head}" if source else head,
        f"  {'mAP@' + rtxt:<26}{result['map']:.6f}",
        f"  {'tie-averaged mAP@' + rtxt:<26}{result['map_tie_averaged']:.6f}",
    ]
    if "precision_radius2" in result:
        lines.append(f"  {'P@H≤2 (per query)':<26}{result['precision_radius2']:.6f}")
    if "topn_precision" in result:
        tp, rk = result["topn_precision"], result["recall_at_k"]
        lines += ["", f"  {'N (=k)':>8} {'P@N':>10} {'R@k':>10}"]
        for n, p, rec in zip(tp["n"], tp["precision"], rk["recall"], strict=False):
            lines.append(f"  {n:>8} {p:>10.6f} {rec:>10.6f}")
    if "pr_radius" in result:
        pr = result["pr_radius"]
        lines += ["", f"  {'radius':>8} {'precision':>10} {'recall':>10}   (pooled over pairs)"]
        for rad, p, rec in zip(pr["radius"], pr["precision"], pr["recall"], strict=False):
            lines.append(f"  {rad:>8} {p:>10.6f} {rec:>10.6f}")
    lines += ["", f"  semantics: {result['semantics']}"]
    return "\n".join(lines)


def one_blas_thread() -> None:
    """Before NumPy is first imported: give its BLAS one thread unless the user chose otherwise.

    The Hamming evaluator uses no BLAS; OpenBLAS's own thread pool, started with NumPy, took
    ≈ 0.1–0.15 s of CPU from the evaluator's threads (whole process ≈ 10 % faster without it).
    Once NumPy is loaded (``xbench evaluate`` called in-process), nothing is changed.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def check_output(output: str | None) -> Path | None:
    """The ``--output`` path, refused (exit 2) if it is a folder or lies under a file.

    Missing folders are created when the result is written (after a successful evaluation).
    """
    if not output:
        return None
    path = Path(output)
    if path.is_dir():
        raise XbenchError(f"--output {output}: is a folder; give a file name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise XbenchError(f"--output {output}: '{parent}' is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise XbenchError(f"--output {output}: folder '{parent}' is not writable")
            break
    return path


@click.command(help=HELP)
@click.argument("codes", metavar="CODES.npz", type=click.Path(dir_okay=False))
@click.option(
    "--topk",
    default="5000",
    show_default=True,
    metavar="R|all",
    help="R of mAP@R (the paper's 5000); 'all' = whole database.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="Output format on stdout.",
)
@click.option(
    "--cutoffs",
    default=None,
    metavar="N1,N2,...",
    help="Cut-offs of the P@N and R@k curves [default: 1,2,5,…,1000 up to the database size].",
)
@click.option(
    "--output", "-o", default=None, help="Also write the JSON result to this file (written atomically)."
)
@click.option(
    "--similarity",
    type=click.Choice(["hamming", "cosine", "euclidean"]),
    default="hamming",
    show_default=True,
    help="hamming: ±1/0-1 hash codes; cosine or euclidean: real-valued embeddings.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="CPU threads (results do not depend on them) [default: OMP_NUM_THREADS if set, else the "
    "usable cores].",
)
@click.option(
    "--pr-curve",
    is_flag=True,
    help="Also the pooled precision/recall-by-Hamming-radius curve (pr_radius). It counts every "
    "query–item pair by distance and relevance; without it only each query's top R is resolved "
    "(about 1.4× faster on NUS-WIDE-sized inputs).",
)
def evaluate(
    codes: str,
    topk: str,
    fmt: str,
    cutoffs: str | None,
    output: str | None,
    similarity: str,
    threads: int | None,
    pr_curve: bool,
) -> None:
    from xbench.running.threads import env_threads, usable_cores

    if similarity == "hamming":
        one_blas_thread()
    out_path = check_output(output)
    threads = threads or env_threads() or usable_cores()
    if pr_curve and similarity != "hamming":
        raise XbenchError(f"--pr-curve: applies to Hamming codes only, not to --similarity {similarity}")
    result = evaluate_file(codes, _parse_topk(topk), _parse_cutoffs(cutoffs), similarity, threads, pr_curve)
    result = {"file": str(codes), **result}
    text = json.dumps(result, indent=2)
    if out_path is not None:
        from xbench.atomic import atomic_write_text

        try:
            atomic_write_text(out_path, text + "\n")
        except OSError as exc:
            raise XbenchError(f"--output {output}: cannot write ({exc.strerror or exc})") from None
    click.echo(text if fmt == "json" else format_table(result, str(codes)))
