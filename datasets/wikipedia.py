"""``wikipedia``: the SVCL Wikipedia release (Rasiwasia et al., ACM MM 2010;
public copy in BMC-SDNU/Cross-Modal-Retrieval).

2,866 Wikipedia sections, each one image and its text, 10 categories, single-label. Files
under ``<data_root>/wikipedia/`` (public copy: BMC-SDNU/Cross-Modal-Retrieval,
``Supervised-cross-modal-real-valued/JFSSL/wikipedia_info/``):

* ``raw_features.mat`` (MAT v5): ``I_tr`` 2173×128 and ``I_te`` 693×128 (SIFT bag of visual
  words), ``T_tr`` 2173×10 and ``T_te`` 693×10 (LDA topic proportions);
* ``trainset_txt_img_cat.list`` (2,173 lines) and ``testset_txt_img_cat.list`` (693 lines):
  tab-separated text id, image id, category 1–10; line i describes row i of the arrays;
* ``categories.list`` (optional): the category names in 1-based order.

Rows are the 2,173 training pairs then the 693 test pairs. The split is the official one,
fixed (no seed): queries = the 693 test pairs, database = training set = the 2,173 training
pairs (protocol ``train-in-database``), as hashing papers use it.

Option ``protocol = "mrl"`` (``--dataset-option protocol=mrl``) gives MRL's split instead (Hu et
al., CVPR 2021, §4.1: 2,173 train / 231 validation / 462 test; penghu-cs/MRL
``src/noisydataset.py`` takes the first 231 test items as validation when the file has no
validation set): validation = the first 231 of the 693 test pairs (file order), query =
database = the other 462 (test items retrieve test items, protocol ``query-in-database``).
MRL's own file is a different copy (VGG-19 / Doc2Vec features); its test order is assumed to be
the SVCL one. Default R of mAP@R: all
(``None``) — the database has only 2,173 items, fewer than the 5,000 used for the paper's
datasets. The features are the original hand-crafted ones (image ``features``, text dense
``features``), not the deep features of MRL's copy (penghu-cs/MRL src/noisydataset.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .base import CrossModalData, Split
from .checks import as_features, as_labels, as_text, check_counts
from .entry import DatasetEntry
from .errors import DatasetError, DatasetFileNotFoundError
from .matfile import ArrayFile
from .sources import check_options
from .splits import validate_split

FOLDER = "wikipedia"
FEATURES = "raw_features.mat"
LISTS = {"train": "trainset_txt_img_cat.list", "test": "testset_txt_img_cat.list"}
CATEGORIES = "categories.list"
DEFAULT_CATEGORIES = (
    "art",
    "biology",
    "geography",
    "history",
    "literature",
    "media",
    "music",
    "royalty",
    "sport",
    "warfare",
)
EXPECTED = {"train": 2173, "test": 693}
PROTOCOLS = ("svcl", "mrl")
MRL_VALIDATION = 231  # MRL's Wikipedia validation size (src/noisydataset.py valid_len)
WHERE = (
    "BMC-SDNU/Cross-Modal-Retrieval on GitHub (Supervised-cross-modal-real-valued/JFSSL/wikipedia_info/) or "
    "the SVCL Wikipedia dataset page"
)


def read_list(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(text ids, image ids, 1-based categories) of a ``*_txt_img_cat.list`` file."""
    texts, images, cats = [], [], []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 3:
            raise DatasetError(
                f"{path}, line {lineno}: expected 'text_id<TAB>image_id<TAB>category', got "
                f"{len(fields)} field(s)"
            )
        try:
            cats.append(int(fields[2]))
        except ValueError:
            raise DatasetError(f"{path}, line {lineno}: category '{fields[2]}' is not an integer") from None
        texts.append(fields[0])
        images.append(fields[1])
    return texts, images, np.asarray(cats, dtype=np.int64)


def _files(root: Path) -> dict[str, Path]:
    folder = Path(root) / FOLDER
    return {"features": folder / FEATURES, **{k: folder / v for k, v in LISTS.items()}}


def available(root: Path) -> bool:
    return all(p.is_file() for p in _files(root).values())


def load_wikipedia(data_root: str | Path, **options: Any) -> CrossModalData:
    """Load the SVCL Wikipedia features with the official split (module docstring)."""
    protocol = str(check_options("wikipedia", options, {"protocol": "svcl"})["protocol"]).strip().lower()
    if protocol not in PROTOCOLS:
        raise DatasetError(
            f"wikipedia: option protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}"
        )
    paths = _files(Path(data_root))
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:
        raise DatasetFileNotFoundError(
            f"wikipedia: missing {', '.join(missing)} in {paths['features'].parent}; expected {FEATURES}, "
            f"{LISTS['train']} and {LISTS['test']}; get them from {WHERE}"
        )
    folder = paths["features"].parent
    names_file = folder / CATEGORIES
    class_names = (
        [c.strip() for c in names_file.read_text().splitlines() if c.strip()]
        if names_file.is_file()
        else list(DEFAULT_CATEGORIES)
    )
    c = len(class_names)
    parts: dict[str, dict[str, Any]] = {}
    with ArrayFile(paths["features"]) as af:
        for part, suffix in (("train", "tr"), ("test", "te")):
            i_var, t_var = (
                af.require(f"I_{suffix}", f"{part} image"),
                af.require(f"T_{suffix}", f"{part} text"),
            )
            image = as_features(af.read(i_var), f"{af.path}: '{i_var}'")
            text, kind = as_text(af.read(t_var), f"{af.path}: '{t_var}'")
            text_ids, image_ids, cats = read_list(paths[part])
            check_counts(
                f"wikipedia ({part})",
                [
                    (f"{i_var} rows", len(image)),
                    (f"{t_var} rows", len(text)),
                    (f"{paths[part].name} lines", len(cats)),
                ],
            )
            if cats.size and (cats.min() < 1 or cats.max() > c):
                raise DatasetError(
                    f"{paths[part]}: categories must be 1..{c}, found {cats.min()}..{cats.max()}"
                )
            labels = as_labels(cats, str(paths[part]), num_classes=c, one_based=True)
            parts[part] = {
                "image": image,
                "text": text,
                "kind": kind,
                "labels": labels,
                "text_ids": text_ids,
                "image_ids": image_ids,
            }
    ntr, nte = len(parts["train"]["labels"]), len(parts["test"]["labels"])
    text_kind = "bow" if parts["train"]["kind"] == parts["test"]["kind"] == "bow" else "features"
    train_rows = np.arange(ntr, dtype=np.int64)
    split = validate_split(
        Split(
            query=np.arange(ntr, ntr + nte, dtype=np.int64),
            train=train_rows,
            database=train_rows.copy(),
            source="official SVCL split (test = query, train = database = training set)",
            protocol="train-in-database",
        ),
        ntr + nte,
        where="wikipedia",
    )
    if protocol == "mrl":
        if nte <= MRL_VALIDATION:
            raise DatasetError(
                f"wikipedia: protocol mrl needs more than {MRL_VALIDATION} test pairs "
                f"({MRL_VALIDATION} validate, the rest are queries), the files have {nte}"
            )
        test = np.arange(ntr, ntr + nte, dtype=np.int64)
        split = validate_split(
            Split(
                query=test[MRL_VALIDATION:],
                train=train_rows,
                database=test[MRL_VALIDATION:],
                source=f"MRL split (first {MRL_VALIDATION} test pairs = validation, the other "
                f"{nte - MRL_VALIDATION} = query = database)",
                protocol="query-in-database",
            ),
            ntr + nte,
            where="wikipedia (protocol mrl)",
        )
        split = replace(split, validation=test[:MRL_VALIDATION])
    return CrossModalData(
        name="wikipedia",
        image=np.concatenate([parts["train"]["image"], parts["test"]["image"]]),
        text=np.concatenate([parts["train"]["text"], parts["test"]["text"]]).astype(
            np.float32 if text_kind == "features" else np.uint8
        ),
        labels=np.concatenate([parts["train"]["labels"], parts["test"]["labels"]]),
        image_kind="features",
        text_kind=text_kind,
        split=split,
        class_names=class_names,
        default_topk=None,
        meta={
            "title": "Wikipedia (SVCL release)",
            "form": "svcl",
            "files": [str(p) for p in paths.values()],
            "expected_items": sum(EXPECTED.values()),
            "expected_classes": 10,
            "expected_text_dim": 10,
            "text_ids": parts["train"]["text_ids"] + parts["test"]["text_ids"],
            "image_ids": parts["train"]["image_ids"] + parts["test"]["image_ids"],
            "notes": "SIFT BoVW image features and LDA text topics; R = all (database 2,173 < 5,000)",
        },
    )


ENTRY = DatasetEntry(
    name="wikipedia",
    loader=load_wikipedia,
    available=available,
    paper=False,
    display_name="Wikipedia",
    order=40,
    description="Wikipedia (SVCL): 2,866 pairs, 10 classes, single-label, 128-d SIFT BoVW / 10-d LDA; official split "
    "693 query / 2,173 train = database (option protocol=mrl: MRL's 2,173 / 231 validation / 462 test, "
    "test → test); R = all",
    expected_files=(f"{FOLDER}/{FEATURES}", f"{FOLDER}/{LISTS['train']}", f"{FOLDER}/{LISTS['test']}"),
    options={"protocol": "svcl"},
)
