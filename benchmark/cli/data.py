"""`xbench data` — dataset tools: ``check`` (validate and summarise) and ``extract`` (backbone features).

The ``noise`` sub-command is added from :mod:`xbench.cli.data_noise`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from xbench.errors import XbenchError
from xbench.running.config import parse_dataset_options as parse_options

DATA_ROOT_HELP = "Where the dataset files live (env XBENCH_DATA_ROOT)."


def load_dataset(name: str, data_root: str, options: dict[str, Any]):
    """Load a dataset, turning the wing's errors into one-line :class:`XbenchError`s."""
    from xbench import datasets

    try:
        return datasets.load(name, data_root, **options)
    except KeyError as exc:  # unknown dataset name (UnknownEntryError)
        raise XbenchError(str(exc.args[0] if exc.args else exc)) from None
    except (ValueError, FileNotFoundError, OSError) as exc:
        raise XbenchError(str(exc)) from None


def _common(f):
    f = click.option(
        "--dataset-option",
        "-o",
        "options",
        multiple=True,
        metavar="KEY=VALUE",
        help="A dataset option (repeatable), e.g. -o seed=1 -o image=features.",
    )(f)
    f = click.option(
        "--data-root", envvar="XBENCH_DATA_ROOT", default="data", show_default=True, help=DATA_ROOT_HELP
    )(f)
    return f


@click.group()
def data():
    """Dataset tools: check, extract, noise."""


# ---------------------------------------------------------------------------------------------- check
def _format_summary(s, files: list[str]) -> list[str]:
    meta = s.meta
    title = meta.get("title", "")
    form = f", form {meta['form']}" if meta.get("form") else ""
    lines = [f"{s.name} — {title}{form}".rstrip(" —")]
    if files:
        lines.append(f"files:    {', '.join(files)}")
    expected = meta.get("expected_items")
    lines.append(f"items:    {s.num_items}" + (f" (standard release: {expected})" if expected else ""))
    if s.image_kind == "images":
        shape = "×".join(str(x) for x in s.image_shape)
        lines.append(
            f"image:    raw images {shape} {s.image_dtype}" + (" (read lazily)" if s.lazy_images else "")
        )
    else:
        lines.append(f"image:    features, {s.image_shape[0]}-d")
    kind = "bag of words" if s.text_kind == "bow" else "dense features"
    lines.append(f"text:     {kind}, {s.text_dim}-d; empty text: {s.empty_text}")
    lp = s.labels_per_item
    lines.append(
        f"labels:   {s.num_classes} classes, {'multi-label' if s.multi_label else 'single-label'}; labels "
        f"per item: mean {lp['mean']:.2f}, min {lp['min']}, max {lp['max']}; empty labels: {s.empty_labels}"
    )
    if s.split_sizes:
        sizes = " / ".join(f"{k} {v}" for k, v in s.split_sizes.items())
        lines.append(
            f"split:    {sizes} — {s.split_source}; protocol {s.split_protocol}; checksum {s.split_checksum}"
        )
    lines.append(f"mAP@R:    R = {s.default_topk if s.default_topk is not None else 'all'} (dataset default)")
    parts = [p for p in ("all", "query", "train", "database") if p in s.class_counts]
    width = max(8, max(len(n) for n in s.class_names) + 1)
    lines.append("class frequencies (items per class):")
    lines.append("  " + f"{'class':<{width}}" + "".join(f"{p:>10}" for p in parts))
    for j, name in enumerate(s.class_names):
        lines.append("  " + f"{name:<{width}}" + "".join(f"{s.class_counts[p][j]:>10}" for p in parts))
    for w in s.warnings:
        lines.append(f"warning:  {w}")
    return lines


@data.command()
@click.argument("dataset")
@_common
@click.option(
    "--split-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Check this split index file instead of the dataset's own split.",
)
@click.option(
    "--write-split",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the (checked) split to this .npz index file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def check(
    dataset: str,
    data_root: str,
    options: tuple[str, ...],
    split_file: str | None,
    write_split: str | None,
    as_json: bool,
) -> None:
    """Validate DATASET and print a summary.

    DATASET is a registered name (see 'xbench list datasets') or files:PATH. Reports sizes per
    split, dimensions, label cardinality and class frequencies, and empty-label / empty-text
    counts. Any problem (missing file or variable, mismatched item counts, non-binary labels,
    NaN/inf features, bad split indices) is a one-line error with exit status 2.
    """
    import numpy as np

    from xbench.datasets import splits
    from xbench.datasets.summary import summarize

    data_ = load_dataset(dataset, data_root, parse_options(options))
    split = data_.split
    try:
        if split_file:
            split = splits.read_split_file(split_file, data_.num_items)
        elif split is not None:
            split = splits.validate_split(split, data_.num_items, where=f"{dataset} split")
        if data_.image_kind == "images" and data_.num_items:  # prove the lazy file reads at both ends
            data_.take("image", np.array([0, data_.num_items - 1]))
        if write_split:
            if split is None:
                raise XbenchError(f"{dataset}: no split to write")
            splits.write_split(split, write_split, num_items=data_.num_items)
    except (ValueError, FileNotFoundError, OSError) as exc:
        raise XbenchError(str(exc)) from None
    summary = summarize(data_, split)
    if as_json:
        click.echo(json.dumps({k: v for k, v in summary.__dict__.items()}, default=str, indent=1))
        return
    for line in _format_summary(summary, list(data_.meta.get("files", []))):
        click.echo(line)
    if write_split:
        click.echo(f"split written to {write_split}")


# -------------------------------------------------------------------------------------------- extract
def _default_out(dataset: str, data_root: str, backbone: str, weights: str) -> Path:
    from xbench import datasets

    entry = datasets.get(dataset)
    if dataset.startswith("files:") or not entry.expected_files:
        raise XbenchError(f"--out is required for {dataset} (no dataset folder to write into)")
    folder = Path(data_root) / entry.expected_files[0].split("/")[0]
    tag = "" if weights == "imagenet" else "-random" if weights in ("none", "") else f"-{Path(weights).stem}"
    return folder / "features" / f"{backbone}{tag}.npz"


def build_backbone(backbone: str, weights: str, seed: int):
    """The image backbone without its classifier (ResNet-18 → 512-d pooled features)."""
    import torch
    from torch import nn

    from xbench.methods.networks import load_resnet18

    if backbone != "resnet18":
        raise XbenchError(f"--backbone {backbone}: only resnet18 is available")
    torch.manual_seed(seed)  # makes --weights none reproducible
    try:
        model = load_resnet18(weights)
    except FileNotFoundError as exc:
        raise XbenchError(f"--weights: {exc}") from None
    except Exception as exc:  # noqa: BLE001 — any failure to produce the weights is reported the same way
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        if weights == "imagenet":
            raise XbenchError(
                f"--weights imagenet: could not get torchvision's ImageNet weights ({reason}); use "
                "--weights none or a local checkpoint path"
            ) from None
        raise XbenchError(f"--weights {weights}: not a usable ResNet-18 checkpoint ({reason})") from None
    model.fc = nn.Identity()
    return model.eval()


@data.command()
@click.option(
    "--dataset", "dataset", required=True, help="A registered dataset or files:PATH with raw images."
)
@click.option(
    "--backbone",
    type=click.Choice(["resnet18"]),
    default="resnet18",
    show_default=True,
    help="Image backbone (the CMMQ paper's ResNet-18).",
)
@click.option(
    "--weights",
    default="imagenet",
    show_default=True,
    help="imagenet (torchvision's weights, downloaded on first use), none (random, seeded by --seed) or "
    "a checkpoint path.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output .npz [default: DATA_ROOT/<dataset folder>/features/<backbone>.npz].",
)
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option(
    "--device", default="auto", show_default=True, help="auto (GPU when available), cpu, cuda, cuda:1, …"
)
@click.option(
    "--preprocess",
    type=click.Choice(["imagenet", "resize"]),
    default="imagenet",
    show_default=True,
    help="imagenet: resize 256 + centre crop 224 (images not already 224×224); resize: stretch to 224.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the random init for --weights none."
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_common
def extract(
    dataset: str,
    backbone: str,
    weights: str,
    out: str | None,
    batch_size: int,
    device: str,
    preprocess: str,
    seed: int,
    force: bool,
    quiet: bool,
    data_root: str,
    options: tuple[str, ...],
) -> None:
    """Extract image features with a backbone and write a features file the loaders accept.

    Use the file with the dataset option image=PATH (or image=features when it is the only file
    in the dataset's features/ folder), e.g. 'xbench data check mirflickr25k -o image=features'.
    """
    import torch

    from xbench.datasets.extract import extract_features, write_features

    if batch_size < 1:
        raise XbenchError(f"--batch-size: must be at least 1, got {batch_size}")
    out_path = Path(out) if out else _default_out(dataset, data_root, backbone, weights)
    if out_path.suffix.lower() != ".npz":
        raise XbenchError(f"--out {out_path}: the features file must end in .npz")
    if out_path.exists() and not force:
        raise XbenchError(f"--out {out_path}: already exists (use --force to overwrite)")
    data_ = load_dataset(dataset, data_root, parse_options(options))
    if data_.image_kind != "images":
        raise XbenchError(
            f"{dataset}: its image modality is already features ({data_.image_dim}-d); extract needs "
            "raw images"
        )
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise XbenchError(f"--device {device}: not a torch device (auto, cpu, cuda, cuda:N)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise XbenchError(f"--device {device}: CUDA is not available here")
    model = build_backbone(backbone, weights, seed)
    try:
        feats = extract_features(
            data_.image,
            model,
            batch_size=batch_size,
            device=device,
            preprocess=preprocess,
            progress=not quiet,
            desc=f"{dataset} {backbone}",
        )
        write_features(
            out_path,
            feats,
            data_.labels,
            dataset=dataset,
            backbone=backbone,
            weights=weights,
            preprocess=preprocess,
        )
    except (ValueError, OSError) as exc:
        raise XbenchError(str(exc)) from None
    click.echo(
        f"wrote {feats.shape[0]}×{feats.shape[1]} {backbone} features ({weights} weights, {preprocess} "
        f"preprocessing) to {out_path}; use them with the dataset option image={out_path}"
    )
