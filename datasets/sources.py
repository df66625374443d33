"""Where a dataset's image modality comes from: raw images or features, detected by shape.

Every loader reads its image array through :func:`image_from_variable`: a 2-d N×D array is
**features** (loaded, checked finite, float32); a 4-d array is **raw images** (kept lazy and
presented as N×3×H×W uint8, :mod:`xbench.datasets.images`). A separate features file — e.g.
written by ``xbench data extract`` or a community ``*-vgg.mat`` — replaces the release's
images through the loaders' ``image`` option (:func:`read_image_file`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .checks import as_features, labels_fingerprint
from .errors import DatasetError, DatasetFileNotFoundError
from .images import detect_layout, images_from_array
from .matfile import ArrayFile

FEATURES_DIR = "features"
FEATURE_SUFFIXES = (".npz", ".npy", ".h5", ".hdf5", ".h5py", ".mat")
IMAGE_KEYS = ("features", "image", "images", "IAll", "XAll", "img", "imgs", "I")


def check_options(dataset: str, options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``options``; unknown option names are a :class:`DatasetError`."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none (it takes no options)"
        raise DatasetError(f"{dataset}: unknown option(s) {', '.join(unknown)}; valid: {valid}")
    return {**defaults, **options}


def image_from_variable(
    af: ArrayFile, name: str, num_items: int, layout: str | None = None
) -> tuple[Any, str]:
    """(array, kind) for variable ``name`` of ``af``: ``features`` (2-d) or ``images`` (4-d)."""
    where = f"{af.path}: '{name}'"
    shape = af.shape(name)
    if len(shape) == 2:
        arr = af.read(name)
        if arr.shape[0] != num_items:
            raise DatasetError(f"{where}: {arr.shape[0]} feature rows, but the dataset has {num_items} items")
        return as_features(arr, where), "features"
    if len(shape) == 4:
        source, reversed_ = af.raw(name)
        stored = detect_layout(source.shape, num_items, reversed_, where, layout)
        images = images_from_array(source, stored, where)
        if not isinstance(images, np.ndarray):
            images.owner = af  # keep the file open while the lazy view lives
        return images, "images"
    raise DatasetError(f"{where}: shape {shape} is neither N×D features nor N×3×H×W images")


def choose_image_variable(af: ArrayFile, key: str | None, candidates: tuple[str, ...] = IMAGE_KEYS) -> str:
    """The image variable: ``key`` if given, else the first known name, else the file's only array."""
    if key:
        return af.require(key, "image")
    name = af.first_present(candidates)
    if name is not None:
        return name
    names = af.names()
    if len(names) == 1:
        return names[0]
    return af.require_any(candidates, "image")


def read_image_file(
    path: str | Path,
    num_items: int,
    key: str | None = None,
    layout: str | None = None,
    labels: np.ndarray | None = None,
) -> tuple[Any, str, ArrayFile]:
    """Image array of a file used in place of the release's images (features or images).

    A file written by ``xbench data extract`` carries ``num_items`` and ``labels_sha256``; both
    are checked so that features extracted from another dataset (or row order) are refused.
    """
    af = ArrayFile(path)
    name = choose_image_variable(af, key)
    stated = af.attribute("num_items") if name != "num_items" else None
    if stated is not None and int(stated) != num_items:
        raise DatasetError(f"{af.path}: made for {int(stated)} items, but the dataset has {num_items}")
    fingerprint = af.attribute("labels_sha256")
    if fingerprint is not None and labels is not None and str(fingerprint) != labels_fingerprint(labels):
        raise DatasetError(
            f"{af.path}: extracted from a dataset with other labels (labels_sha256 {fingerprint} ≠ "
            f"{labels_fingerprint(labels)}); re-run 'xbench data extract' for this dataset"
        )
    array, kind = image_from_variable(af, name, num_items, layout)
    if isinstance(array, np.ndarray):  # loaded: the file is no longer needed
        af.close()
    return array, kind, af


def features_files(folder: Path) -> list[Path]:
    """Files under ``folder/features/`` that may hold features (sorted by name)."""
    d = folder / FEATURES_DIR
    if not d.is_dir():
        return []
    return sorted(
        p
        for p in d.iterdir()
        if p.is_file() and p.suffix.lower() in FEATURE_SUFFIXES and not p.name.startswith(".")
    )


def resolve_image_option(dataset: str, folder: Path, image: str) -> Path | None:
    """The file named by an ``image`` option: ``auto`` → None (use the release's images),
    ``features`` → the one file under ``features/``, anything else → a path (absolute, or
    relative to the dataset folder, or to the working directory)."""
    if image in ("auto", "", None):
        return None
    if image == "features":
        found = features_files(folder)
        if not found:
            raise DatasetFileNotFoundError(
                f"{dataset}: image=features but {folder / FEATURES_DIR} holds no features file; run "
                f"'xbench data extract --dataset {dataset}' or put a features file there"
            )
        if len(found) > 1:
            raise DatasetError(
                f"{dataset}: several features files in {folder / FEATURES_DIR} "
                f"({', '.join(p.name for p in found)}); choose one with image=features/NAME"
            )
        return found[0]
    path = Path(image).expanduser()
    for candidate in [path] if path.is_absolute() else [folder / path, path]:
        if candidate.is_file():
            return candidate
    raise DatasetFileNotFoundError(
        f"{dataset}: image file '{image}' not found (looked in {folder} and the working directory)"
    )
