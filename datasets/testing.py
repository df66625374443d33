"""Builders of tiny dataset files in the real distributed formats.

Used by xbench's tests (and handy for trying a loader or a plugin without the real data):
each writer produces the same file names, variable names, MAT versions and axis orders as the
community's releases (docs/datasets.md). Images are N×3×H×W uint8 with H ≠ W,
so that any transpose mistake changes the array.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import scipy.io

from .matfile import write_v73

H, W = 6, 5


def make_arrays(n: int = 30, classes: int = 24, vocab: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """Random images (NCHW uint8), binary tags and multi-hot labels with ≥ 1 label per row."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 3, H, W), dtype=np.uint8)
    text = (rng.random((n, vocab)) < 0.3).astype(np.uint8)
    labels = (rng.random((n, classes)) < 0.15).astype(np.uint8)
    labels[np.arange(n), rng.integers(0, classes, n)] = 1
    return {"images": images, "text": text, "labels": labels}


def matlab_images(images: np.ndarray) -> np.ndarray:
    """NCHW → MATLAB's natural H×W×3×N stacking."""
    return np.ascontiguousarray(images.transpose(2, 3, 1, 0))


def write_dcmh_split_files(
    folder: Path,
    arr: dict[str, np.ndarray],
    prefix: str = "mirflickr25k",
    subfolders: bool = False,
    images: bool = True,
) -> None:
    """DCMH split files: IAll as v7.3 (MATLAB order), YAll and LAll as v5 (scipy)."""
    folder.mkdir(parents=True, exist_ok=True)

    def place(var: str, name: str) -> Path:
        d = folder / var if subfolders else folder
        d.mkdir(parents=True, exist_ok=True)
        return d / name

    if images:
        write_v73(place("IAll", f"{prefix}-iall.mat"), {"IAll": matlab_images(arr["images"])})
    scipy.io.savemat(place("YAll", f"{prefix}-yall.mat"), {"YAll": arr["text"]})
    scipy.io.savemat(place("LAll", f"{prefix}-lall.mat"), {"LAll": arr["labels"]})


def write_flickr_single(path: Path, arr: dict[str, np.ndarray]) -> None:
    """DCMH's v7.3 FLICKR-25K.mat with images, YAll, LAll."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_v73(path, {"images": matlab_images(arr["images"]), "YAll": arr["text"], "LAll": arr["labels"]})


BMC_KEYS = {
    "train": ("I_tr", "T_tr", "L_tr"),
    "query": ("I_te", "T_te", "L_te"),
    "database": ("I_db", "T_db", "L_db"),
}
CMMQ_KEYS = {
    "train": ("ImgTrain", "TagTrain", "LabTrain"),
    "query": ("ImgQuery", "TagQuery", "LabQuery"),
    "database": ("ImgDataBase", "TagDataBase", "LabDataBase"),
}


def write_presplit(
    path: Path, blocks: dict[str, dict[str, np.ndarray]], family: str = "CMMQ", features: bool = False
) -> None:
    """A pre-split file: CMMQ family as plain h5py (images N×H×W×3), BMC-SDNU family as v7.3
    (MATLAB N×3×H×W, i.e. h5py (W, H, 3, N))."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = CMMQ_KEYS if family == "CMMQ" else BMC_KEYS
    if family == "CMMQ":
        with h5py.File(path, "w") as fh:
            for block, (i, t, lab) in keys.items():
                b = blocks[block]
                img = b["features"] if features else b["images"].transpose(0, 2, 3, 1)
                fh[i], fh[t], fh[lab] = img, b["text"].astype(np.float32), b["labels"]
                if block == "train":
                    fh["FLabTrain"] = 1 - b["labels"]  # noisy labels in CMMQ's files: must be ignored
    else:
        out = {}
        for block, (i, t, lab) in keys.items():
            b = blocks[block]
            out[i] = b["features"] if features else b["images"]
            out[t], out[lab] = b["text"].astype(np.float64), b["labels"].astype(np.float64)
        write_v73(path, out)


def split_blocks(arr: dict[str, np.ndarray], sizes: tuple[int, int, int]) -> dict[str, dict[str, np.ndarray]]:
    """Cut the arrays into train / query / database blocks of ``sizes`` (in that order)."""
    out, start = {}, 0
    for block, size in zip(("train", "query", "database"), sizes, strict=False):
        out[block] = {k: v[start : start + size] for k, v in arr.items()}
        start += size
    return out


def write_wikipedia(folder: Path, n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """A miniature SVCL Wikipedia release (same file names and formats)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "I_tr": rng.random((n_train, 8)),
        "T_tr": rng.dirichlet(np.ones(4), n_train),
        "I_te": rng.random((n_test, 8)),
        "T_te": rng.dirichlet(np.ones(4), n_test),
    }
    scipy.io.savemat(folder / "raw_features.mat", arrays)
    cats = {"train": rng.integers(1, 11, n_train), "test": rng.integers(1, 11, n_test)}
    for part, fname in (("train", "trainset_txt_img_cat.list"), ("test", "testset_txt_img_cat.list")):
        lines = [f"t{part}{i}\ti{part}{i}\t{c}" for i, c in enumerate(cats[part])]
        (folder / fname).write_text("\n".join(lines) + "\n")
    (folder / "categories.list").write_text(
        "art\nbiology\ngeography\nhistory\nliterature\nmedia\nmusic\nroyalty\nsport\nwarfare\n"
    )
    return {**arrays, "cat_train": cats["train"], "cat_test": cats["test"]}
