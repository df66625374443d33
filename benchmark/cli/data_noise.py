"""`xbench data noise DATASET --noise TYPE:RATE` — inject label noise and print what it did.

Loads the dataset with ``xbench.datasets.load``, takes its training rows (``split.train``),
draws the noise exactly as a run with the same ``--seed`` would (``xbench.noise.inject``)
and prints the realised statistics; nothing is trained or written.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import click

from xbench.errors import XbenchError

MATRIX_AUTO_MAX_CLASSES = 24  # larger matrices are printed only with --matrix


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise XbenchError(f"--dataset-option '{text}': expected KEY=VALUE")
    raw = raw.strip()
    value: Any = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
    return key.strip(), value


def _fmt_fraction(count: int, total: int, fraction: float) -> str:
    return f"{count} / {total} ({fraction:.4f})"


def _side_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    n, c = s["num_samples"], s["num_classes"]
    rows = [
        ("corrupted samples", _fmt_fraction(s["num_corrupted"], n, s["corrupted_fraction"])),
        ("label bits changed", _fmt_fraction(s["bits_changed"], n * c, s["bits_changed_fraction"])),
        ("bits per corrupted sample", f"{s['bits_changed_per_corrupted']:.3f}"),
        ("labels per sample", f"{s['labels_per_sample_clean']:.3f} -> {s['labels_per_sample_noisy']:.3f}"),
        ("disjoint from clean set", f"{s['disjoint_fraction']:.4f}"),
        ("empty noisy rows", str(s["empty_noisy_rows"])),
    ]
    if "resampled_rows" in s:
        rows.append(("rows redrawn (non-empty)", str(s["resampled_rows"])))
    return rows


def _matrix_lines(title: str, matrix: list[list[float | None]]) -> list[str]:
    c = len(matrix)
    width = max(3, len(str(c - 1)))
    lines = [title, " " * (width + 1) + " ".join(f"{j:>{width}}" for j in range(c))]
    for i, row in enumerate(matrix):
        cells = ["-".rjust(width) if v is None else f"{100 * v:>{width}.0f}" for v in row]
        lines.append(f"{i:>{width}} " + " ".join(cells))
    return lines


def render_table(report: dict[str, Any], show_matrix: bool | None) -> list[str]:
    """The human-readable form of :func:`build_report`'s result."""
    stats = report["noise"]
    sides = ["shared"] if "shared" in stats else ["image", "text"]
    first = stats[sides[0]]
    mode = "shared by image and text" if "shared" in stats else "drawn independently per modality"
    lines = [
        (
            f"dataset      {report['dataset']}: {first['num_samples']} training samples, "
            f"{first['num_classes']} classes, {stats['label_type']}, "
            f"{first['labels_per_sample_clean']:.3f} labels/sample"
        ),
        f"noise        {stats['spec']} (seed {stats['seed']}, {mode})",
        *textwrap.wrap(
            report["definition"], width=100, initial_indent="definition   ", subsequent_indent=" " * 13
        ),
        "",
    ]
    label_w = 28
    lines.append(f"{'':<{label_w}}" + "".join(f"{s:>26}" for s in sides))
    per_side = [_side_rows(stats[s]) for s in sides]
    for r, (label, _) in enumerate(per_side[0]):
        lines.append(f"{label:<{label_w}}" + "".join(f"{rows[r][1]:>26}" for rows in per_side))
    if "modality_disagreement_fraction" in stats:
        lines.append(
            f"{'image/text labels differ':<{label_w}}{stats['modality_disagreement_fraction']:>26.4f}"
        )
    show = first["num_classes"] <= MATRIX_AUTO_MAX_CLASSES if show_matrix is None else show_matrix
    if show:
        for side in sides:
            s = stats[side]
            where = "" if side == "shared" else f" [{side}]"
            if s["positive_transition_matrix"] is not None:
                title = (
                    f"empirical transition matrix{where}: % of clean positives of class i that became class j"
                )
                matrix = s["positive_transition_matrix"]
            else:
                title = (
                    f"empirical label transition{where}: % of samples with clean class i whose noisy "
                    "labels contain j"
                )
                matrix = s["transition_matrix"]
            lines += [""] + _matrix_lines(title, matrix)
    elif show_matrix is None:
        lines += [
            "",
            (
                f"(transition matrix not shown for {first['num_classes']} classes; use --matrix or "
                "--format json)"
            ),
        ]
    return lines


def build_report(
    dataset: str, data_root: str, spec: str, seed: int, per_modality: bool, options: dict[str, Any]
) -> dict[str, Any]:
    """Load ``dataset``, inject ``spec`` into its training labels; XbenchError on bad input."""
    import numpy as np

    from xbench import datasets, noise

    try:
        parsed, model = noise.resolve(spec)
    except ValueError as exc:
        raise XbenchError(f"--noise: {exc}") from None
    try:
        data = datasets.load(dataset, data_root, **options)
    except KeyError as exc:  # UnknownEntryError
        raise XbenchError(f"DATASET: {exc}") from None
    except (ValueError, TypeError, OSError) as exc:
        raise XbenchError(f"dataset '{dataset}' (data root {data_root}): {exc}") from None
    if data.split is None:
        raise XbenchError(f"dataset '{dataset}' has no split, so it has no training set")
    clean = np.asarray(data.take("labels", data.split.train))
    try:
        outcome = noise.inject(clean, parsed, seed, per_modality=per_modality)
    except ValueError as exc:
        raise XbenchError(f"--noise {parsed} on {dataset}: {exc}") from None
    return {
        "dataset": dataset,
        "train_size": len(clean),
        "definition": model.definition or model.description,
        "noise": outcome.stats,
    }


@click.command("noise")
@click.argument("dataset")
@click.option(
    "--noise",
    "spec",
    required=True,
    metavar="TYPE:RATE",
    help="Noise model and rate, e.g. symmetric:0.6, asymmetric:0.4, swap:0.5, bitflip:0.05, none.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed (the same as a run's --seeds value)."
)
@click.option(
    "--noise-per-modality",
    "per_modality",
    is_flag=True,
    help="Draw image and text noisy labels independently (MRL's setting).",
)
@click.option(
    "--data-root",
    envvar="XBENCH_DATA_ROOT",
    default="data",
    show_default=True,
    help="Where the dataset files live (env XBENCH_DATA_ROOT).",
)
@click.option(
    "--dataset-option",
    "dataset_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option passed to the dataset loader (e.g. num_train=500 for synthetic). Repeatable.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--matrix/--no-matrix",
    default=None,
    help=f"Print the empirical transition matrix [default: when C <= {MATRIX_AUTO_MAX_CLASSES}].",
)
def noise(
    dataset: str,
    spec: str,
    seed: int,
    per_modality: bool,
    data_root: str,
    dataset_options: tuple[str, ...],
    fmt: str,
    matrix: bool | None,
) -> None:
    """Inject label noise into DATASET's training labels and print the realised noise.

    Reports the fraction of corrupted samples, of label bits changed, the label-set sizes,
    the share of samples whose noisy labels no longer overlap the clean ones, and the
    empirical transition matrix — the same statistics a run records. Nothing is trained.
    """
    options = dict(_parse_option(o) for o in dataset_options)
    report = build_report(dataset, data_root, spec, seed, per_modality, options)
    if fmt == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        for line in render_table(report, matrix):
            click.echo(line)
