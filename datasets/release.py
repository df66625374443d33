"""Loader shared by the paper's datasets (MIRFlickr-25K, NUS-WIDE, MS-COCO) in their distributed forms.

A dataset lives in one folder under the data root (``<root>/<folder>/``) in one of three forms
(docs/datasets.md):

``dcmh``
    The DCMH split files: an image file (``IAll``), a text file (``YAll``) and a label file
    (``LAll``), each directly in the folder or in the Baidu sub-folder of its variable's name
    (``IAll/``, ``YAll/``, ``LAll/``). Any of them may be v5 or v7.3 (told from the header).
``single``
    One file holding the three variables (DCMH's ``FLICKR-25K.mat``: ``images``, ``YAll``,
    ``LAll``; DADH's same-named v5 file with 4096-d features in ``images`` is read as features).
``presplit``
    A pre-split file with train / query / database blocks: the BMC-SDNU family
    (``I_tr, T_tr, L_tr, I_te, T_te, L_te, I_db, T_db, L_db``) or the CMMQ / NRCH family
    (``ImgTrain, TagTrain, LabTrain, ImgQuery, …, ImgDataBase, TagDataBase, LabDataBase``;
    CMMQ's ``FLabTrain`` noisy labels are ignored — xbench makes its own noise). Rows are the
    blocks concatenated as **train, query, database**. ``split=file`` (the default for this
    form) uses the blocks as the split (protocol ``disjoint``: the training block is a separate
    copy); ``split=seeded`` draws the standard split from the query + database rows only
    (assuming, as in the CMMQ and BMC-SDNU files, that the training block repeats database items).

In every form the image variable may hold raw images (4-d, read lazily) or features (N×D),
told apart by shape. Options common to all three datasets:

``seed`` (0), ``num_query``, ``num_train``
    the seeded standard split (:func:`xbench.datasets.splits.standard_split`).
``form`` (``auto``)
    ``dcmh`` / ``single`` / ``presplit``; ``auto`` takes the first form whose files exist, in
    that order.
``image`` (``auto``)
    ``auto``: the release's image variable, or — when the release has no image file — the one
    file under ``<folder>/features/``; ``features``: that file even when images exist; a path
    (absolute or relative to the folder): that file, rows in the dataset's row order.
``image_key``, ``image_layout``
    the variable to read from an ``image`` file; the stored axis order of images
    (:mod:`xbench.datasets.images`) when the conventions do not apply.
``split`` (``auto``)
    ``seeded`` or, for the pre-split form, ``file``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .base import CrossModalData, Split
from .checks import as_labels, as_text, check_counts
from .entry import DatasetEntry
from .errors import DatasetError, DatasetFileNotFoundError
from .images import ConcatRows
from .matfile import ArrayFile
from .sources import (
    check_options,
    features_files,
    image_from_variable,
    read_image_file,
    resolve_image_option,
)
from .splits import standard_split, validate_split

FORMS = ("dcmh", "single", "presplit")
PRESPLIT_KEYS = {
    "BMC-SDNU": {
        "train": ("I_tr", "T_tr", "L_tr"),
        "query": ("I_te", "T_te", "L_te"),
        "database": ("I_db", "T_db", "L_db"),
    },
    "CMMQ": {
        "train": ("ImgTrain", "TagTrain", "LabTrain"),
        "query": ("ImgQuery", "TagQuery", "LabQuery"),
        "database": ("ImgDataBase", "TagDataBase", "LabDataBase"),
    },
}
BLOCKS = ("train", "query", "database")


@dataclass(frozen=True)
class FileSpec:
    """One DCMH split file: its name, the variable it holds and its Baidu sub-folder."""

    name: str
    variable: str
    subdir: str = ""


@dataclass(frozen=True)
class ReleaseSpec:
    """What a paper dataset's files look like and its standard split."""

    name: str
    folder: str
    title: str
    num_query: int
    num_train: int
    expected_items: int | None
    expected_classes: int
    expected_text_dim: int | None
    split_files: tuple[FileSpec, FileSpec, FileSpec] | None = None  # image, text, labels
    single_file: tuple[str, tuple[str, str, str]] | None = None  # file, (image, text, labels) variables
    presplit_files: tuple[str, ...] = ()
    class_names: tuple[str, ...] | None = None
    where_to_get: str = ""
    default_topk: int | None = 5000
    notes: str = ""

    def defaults(self) -> dict[str, Any]:
        return {
            "seed": 0,
            "num_query": self.num_query,
            "num_train": self.num_train,
            "form": "auto",
            "image": "auto",
            "image_key": None,
            "image_layout": None,
            "split": "auto",
        }

    def expected(self) -> tuple[str, ...]:
        """Every file name of every form, relative to the data root (for messages and listings)."""
        out = []
        if self.split_files:
            out += [f"{self.folder}/{f.name}" for f in self.split_files]
        if self.single_file:
            out.append(f"{self.folder}/{self.single_file[0]}")
        out += [f"{self.folder}/{n}" for n in self.presplit_files]
        return tuple(out)

    def describe_forms(self) -> str:
        forms = []
        if self.split_files:
            forms.append(" + ".join(f.name for f in self.split_files) + " (DCMH split files)")
        if self.single_file:
            forms.append(f"{self.single_file[0]} (single file)")
        if self.presplit_files:
            forms.append(" or ".join(self.presplit_files) + " (pre-split)")
        return "; or ".join(forms)


def find(folder: Path, name: str, subdir: str = "") -> Path | None:
    """``folder/name`` or ``folder/subdir/name``, whichever exists."""
    for p in (folder / name, folder / subdir / name if subdir else None):
        if p is not None and p.is_file():
            return p
    return None


def _located(spec: ReleaseSpec, folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if spec.split_files:
        paths = [find(folder, f.name, f.subdir) for f in spec.split_files]
        if paths[1] and paths[2]:
            found["dcmh"] = paths
    if spec.single_file:
        p = find(folder, spec.single_file[0])
        if p:
            found["single"] = p
    for name in spec.presplit_files:
        p = find(folder, name)
        if p:
            found["presplit"] = p
            break
    return found


def _missing(spec: ReleaseSpec, folder: Path, form: str | None = None) -> DatasetFileNotFoundError:
    what = (
        spec.describe_forms()
        if form is None
        else {
            "dcmh": spec.split_files and " + ".join(f.name for f in spec.split_files),
            "single": spec.single_file and spec.single_file[0],
            "presplit": " or ".join(spec.presplit_files),
        }[form]
    )
    return DatasetFileNotFoundError(
        f"{spec.name}: {spec.title} files not found in {folder}; expected {what or f'no {form} form'}"
        + (f"; get them from {spec.where_to_get}" if spec.where_to_get else "")
        + " (see README, 'Datasets')"
    )


def available(spec: ReleaseSpec) -> Callable[[Path], bool]:
    def check(root: Path) -> bool:
        folder = Path(root) / spec.folder
        found = _located(spec, folder)
        if "dcmh" in found and found["dcmh"][0] is None and not features_files(folder):
            del found["dcmh"]
        return bool(found)

    return check


def _read_text_labels(
    af_text: ArrayFile, text_var: str, af_labels: ArrayFile, labels_var: str
) -> tuple[np.ndarray, str, np.ndarray]:
    text, kind = as_text(af_text.read(af_text.require(text_var, "text")), f"{af_text.path}: '{text_var}'")
    labels = as_labels(
        af_labels.read(af_labels.require(labels_var, "labels")), f"{af_labels.path}: '{labels_var}'"
    )
    return text, kind, labels


def load_release(spec: ReleaseSpec, data_root: str | Path, **options: Any) -> CrossModalData:
    """Load ``spec``'s dataset from ``<data_root>/<folder>/`` (see the module docstring)."""
    opts = check_options(spec.name, options, spec.defaults())
    folder = Path(data_root) / spec.folder
    found = _located(spec, folder)
    form = opts["form"]
    if form == "auto":
        form = next((f for f in FORMS if f in found), None)
        if form is None:
            raise _missing(spec, folder)
    elif form not in FORMS:
        raise DatasetError(f"{spec.name}: form '{form}' unknown; valid: auto, {', '.join(FORMS)}")
    elif form not in found:
        raise _missing(spec, folder, form)
    split_mode = opts["split"]
    valid_splits = ("auto", "seeded", "file") if form == "presplit" else ("auto", "seeded")
    if split_mode not in valid_splits:
        raise DatasetError(
            f"{spec.name}: split '{split_mode}' not available for the {form} form; valid: "
            f"{', '.join(valid_splits)}"
        )
    image_path = resolve_image_option(spec.name, folder, opts["image"])
    files: list[Path] = []

    if form == "presplit":
        return _load_presplit(spec, found["presplit"], opts, image_path, split_mode)

    if form == "dcmh":
        image_file, text_file, labels_file = found["dcmh"]
        fi, ft, fl = spec.split_files
        with ArrayFile(text_file) as af_text, ArrayFile(labels_file) as af_labels:
            text, text_kind, labels = _read_text_labels(af_text, ft.variable, af_labels, fl.variable)
        files += [text_file, labels_file]
        image_var = fi.variable
    else:
        single = found["single"]
        image_var, text_var, labels_var = spec.single_file[1]
        with ArrayFile(single) as af:
            text, text_kind, labels = _read_text_labels(af, text_var, af, labels_var)
        image_file, files = single, [single]
    n = len(labels)
    check_counts(spec.name, [(f"text {text_kind} rows", len(text)), ("label rows", n)])

    if image_path is None and image_file is None:  # release without its image file: the features folder
        candidates = features_files(folder)
        if len(candidates) == 1:
            image_path = candidates[0]
        else:
            fi = spec.split_files[0]
            raise DatasetFileNotFoundError(
                f"{spec.name}: no image file: expected {fi.name} (variable {fi.variable}) in {folder}, or exactly one "
                f"features file in {folder / 'features'} (found {len(candidates)})"
            )
    if image_path is not None:
        image, image_kind, _ = read_image_file(image_path, n, opts["image_key"], opts["image_layout"], labels)
        files.append(image_path)
    else:
        af_img = ArrayFile(image_file)
        name = af_img.require(image_var, "images")
        image, image_kind = image_from_variable(af_img, name, n, opts["image_layout"])
        if isinstance(image, np.ndarray):
            af_img.close()
        if image_file not in files:
            files.append(image_file)
    split = standard_split(n, opts["num_query"], opts["num_train"], opts["seed"], spec.name)
    return _assemble(spec, image, image_kind, text, text_kind, labels, split, form, files)


def _assemble(
    spec: ReleaseSpec,
    image: Any,
    image_kind: str,
    text: np.ndarray,
    text_kind: str,
    labels: np.ndarray,
    split: Split,
    form: str,
    files: list[Path],
) -> CrossModalData:
    names = (
        list(spec.class_names)
        if spec.class_names and len(spec.class_names) == labels.shape[1] and form in ("dcmh", "single")
        else None
    )
    return CrossModalData(
        name=spec.name,
        image=image,
        text=text,
        labels=labels,
        image_kind=image_kind,
        text_kind=text_kind,
        split=split,
        class_names=names,
        default_topk=spec.default_topk,
        meta={
            "title": spec.title,
            "form": form,
            "files": [str(p) for p in files],
            "expected_items": spec.expected_items,
            "expected_classes": spec.expected_classes,
            "expected_text_dim": spec.expected_text_dim,
            "notes": spec.notes,
        },
    )


def _load_presplit(
    spec: ReleaseSpec, path: Path, opts: dict[str, Any], image_path: Path | None, split_mode: str
) -> CrossModalData:
    af = ArrayFile(path)
    family = next((f for f, keys in PRESPLIT_KEYS.items() if keys["train"][1] in af), None)
    if family is None:
        found = ", ".join(af.names()) or "nothing"
        raise DatasetError(
            f"{path}: not a pre-split file (expected T_tr/L_tr/… or TagTrain/LabTrain/… variables); "
            f"found: {found}"
        )
    keys = PRESPLIT_KEYS[family]
    texts, labels, sizes = [], [], {}
    for block in BLOCKS:
        i_var, t_var, l_var = keys[block]
        t, kind = as_text(af.read(af.require(t_var, f"{block} text")), f"{path}: '{t_var}'")
        lab = as_labels(af.read(af.require(l_var, f"{block} labels")), f"{path}: '{l_var}'")
        check_counts(f"{spec.name} ({block} block)", [(f"{t_var} rows", len(t)), (f"{l_var} rows", len(lab))])
        texts.append((t, kind))
        labels.append(lab)
        sizes[block] = len(lab)
    widths = {t.shape[1] for t, _ in texts}
    if len(widths) != 1 or len({lab.shape[1] for lab in labels}) != 1:
        raise DatasetError(
            f"{path}: blocks disagree in text or label width ({[t.shape for t, _ in texts]}, "
            f"{[lab.shape for lab in labels]})"
        )
    text_kind = "bow" if all(k == "bow" for _, k in texts) else "features"
    text = np.concatenate([t if text_kind == "bow" else t.astype(np.float32) for t, _ in texts])
    all_labels = np.concatenate(labels)
    n = len(all_labels)
    if image_path is not None:
        image, image_kind, _ = read_image_file(
            image_path, n, opts["image_key"], opts["image_layout"], all_labels
        )
    else:
        parts, kinds = [], set()
        for block in BLOCKS:
            i_var = af.require(keys[block][0], f"{block} images")
            img, kind = image_from_variable(af, i_var, sizes[block], opts["image_layout"])
            parts.append(img)
            kinds.add(kind)
        if len(kinds) != 1:
            raise DatasetError(f"{path}: some blocks hold images and others features")
        image_kind = kinds.pop()
        if all(isinstance(p, np.ndarray) for p in parts):
            image = np.concatenate(parts)
        else:
            image = ConcatRows(parts)
    ntr, nq = sizes["train"], sizes["query"]
    if split_mode in ("auto", "file"):
        split = Split(
            query=np.arange(ntr, ntr + nq, dtype=np.int64),
            train=np.arange(ntr, dtype=np.int64),
            database=np.arange(ntr + nq, n, dtype=np.int64),
            source=f"frozen in {path.name} ({family} blocks)",
            protocol="disjoint",
        )
        split = validate_split(split, n, where=str(path))
    else:
        pool = standard_split(n - ntr, opts["num_query"], opts["num_train"], opts["seed"], spec.name)
        split = Split(
            pool.query + ntr,
            pool.train + ntr,
            pool.database + ntr,
            source=f"{pool.source} of the query + database blocks of {path.name}",
            protocol="train-in-database",
        )
    if isinstance(image, np.ndarray):
        af.close()
    files = [path] + ([image_path] if image_path is not None else [])
    data = _assemble(spec, image, image_kind, text, text_kind, all_labels, split, "presplit", files)
    data.meta["blocks"] = dict(sizes)
    data.meta["family"] = family
    return data


def release_entry(
    spec: ReleaseSpec, description: str, display_name: str = "", order: int = 1000
) -> DatasetEntry:
    """The registry entry of ``spec``, a paper dataset (``paper=True``); ``xbench.datasets`` registers it."""

    def loader(data_root: Path, **options: Any) -> CrossModalData:
        return load_release(spec, data_root, **options)

    return DatasetEntry(
        name=spec.name,
        loader=loader,
        description=description,
        available=available(spec),
        paper=True,
        expected_files=spec.expected(),
        options=spec.defaults(),
        display_name=display_name,
        order=order,
    )
