"""MIRFlickr-25K, NUS-WIDE and MS-COCO loaders on tiny files in each distributed format."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from xbench import datasets
from xbench.datasets.errors import (
    DatasetError,
    DatasetFileNotFoundError,
    MissingVariableError,
)
from xbench.datasets.extract import write_features
from xbench.datasets.images import LazyImages
from xbench.datasets.matfile import write_v73
from xbench.datasets.mirflickr import CONCEPTS
from xbench.datasets.splits import standard_split
from xbench.datasets.testing import (
    H,
    W,
    make_arrays,
    matlab_images,
    split_blocks,
    write_dcmh_split_files,
    write_flickr_single,
    write_presplit,
)

SMALL = {"num_query": 4, "num_train": 10}


def _mir(root: Path, **options):
    return datasets.load("mirflickr25k", root, **{**SMALL, **options})


@pytest.mark.parametrize("subfolders", [False, True])
def test_mirflickr_dcmh_split_files(tmp_path, subfolders):
    arr = make_arrays(30)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr, subfolders=subfolders)
    assert datasets.get("mirflickr25k").available(tmp_path)
    assert datasets.default_datasets(tmp_path) == ["mirflickr25k"]
    data = _mir(tmp_path, seed=5)
    assert data.meta["form"] == "dcmh" and data.image_kind == "images" and data.text_kind == "bow"
    assert isinstance(data.image, LazyImages) and data.image.shape == (30, 3, H, W)
    np.testing.assert_array_equal(np.asarray(data.image), arr["images"])  # MATLAB order → identical NCHW
    np.testing.assert_array_equal(data.text, arr["text"])
    np.testing.assert_array_equal(data.labels, arr["labels"])
    assert data.class_names == list(CONCEPTS) and data.default_topk == 5000
    expected = standard_split(30, 4, 10, seed=5)
    assert data.split.checksum() == expected.checksum() and data.split.protocol == "train-in-database"
    idx = data.split.train[::-1]
    np.testing.assert_array_equal(data.take("image", idx), arr["images"][idx])


def test_mirflickr_default_split_sizes_need_enough_items(tmp_path):
    write_dcmh_split_files(tmp_path / "mirflickr25k", make_arrays(30))
    with pytest.raises(DatasetError, match="num_query \\+ num_train = 12000 exceeds the 30 items"):
        datasets.load("mirflickr25k", tmp_path)


def test_mirflickr_single_v73_file(tmp_path):
    arr = make_arrays(20)
    write_flickr_single(tmp_path / "mirflickr25k" / "FLICKR-25K.mat", arr)
    data = _mir(tmp_path)
    assert data.meta["form"] == "single"
    np.testing.assert_array_equal(data.take("image", np.array([3, 1])), arr["images"][[3, 1]])
    np.testing.assert_array_equal(data.labels, arr["labels"])


def test_mirflickr_dadh_features_in_a_v5_single_file(tmp_path):
    arr = make_arrays(20)
    feats = np.random.default_rng(0).normal(size=(20, 16))
    (tmp_path / "mirflickr25k").mkdir()
    scipy.io.savemat(
        tmp_path / "mirflickr25k" / "FLICKR-25K.mat",
        {"images": feats, "YAll": arr["text"], "LAll": arr["labels"]},
    )
    data = _mir(tmp_path)
    assert data.image_kind == "features" and data.image_dim == 16 and data.image.dtype == np.float32
    np.testing.assert_allclose(data.image, feats, rtol=1e-6)


def test_features_in_place_of_images(tmp_path):
    arr = make_arrays(30)
    folder = tmp_path / "mirflickr25k"
    write_dcmh_split_files(folder, arr, images=False)
    assert not datasets.get("mirflickr25k").available(tmp_path)  # no images and no features yet
    with pytest.raises(DatasetFileNotFoundError, match="no image file: expected mirflickr25k-iall.mat"):
        _mir(tmp_path)
    feats = np.random.default_rng(2).random((30, 8)).astype(np.float32)
    write_features(
        folder / "features" / "resnet18.npz",
        feats,
        arr["labels"],
        "mirflickr25k",
        "resnet18",
        "none",
        "imagenet",
    )
    assert datasets.get("mirflickr25k").available(tmp_path)
    data = _mir(tmp_path)  # auto: no release images → the one features file
    assert data.image_kind == "features"
    np.testing.assert_array_equal(data.image, feats)
    # a community features file (NRCH's mirflickr25k-iall-vgg.mat, XAll) by path
    scipy.io.savemat(folder / "mirflickr25k-iall-vgg.mat", {"XAll": feats[:, :4].astype(np.float64)})
    data = _mir(tmp_path, image="mirflickr25k-iall-vgg.mat")
    np.testing.assert_allclose(data.image, feats[:, :4])
    # the release images win under image=auto, image=features picks the features file
    write_v73(folder / "mirflickr25k-iall.mat", {"IAll": matlab_images(arr["images"])})
    assert _mir(tmp_path).image_kind == "images"
    assert _mir(tmp_path, image="features").image_kind == "features"
    np.save(folder / "features" / "other.npy", feats)
    with pytest.raises(DatasetError, match="several features files .*other.npy, resnet18.npz"):
        _mir(tmp_path, image="features")


def test_features_file_from_another_dataset_is_refused(tmp_path):
    arr = make_arrays(30)
    folder = tmp_path / "mirflickr25k"
    write_dcmh_split_files(folder, arr, images=False)
    other = arr["labels"].copy()
    other[0] = 1 - other[0]
    write_features(
        folder / "features" / "f.npz", np.zeros((30, 4)), other, "x", "resnet18", "none", "imagenet"
    )
    with pytest.raises(DatasetError, match="extracted from a dataset with other labels"):
        _mir(tmp_path)
    write_features(
        folder / "features" / "f.npz",
        np.zeros((29, 4)),
        arr["labels"][:29],
        "x",
        "resnet18",
        "none",
        "imagenet",
    )
    with pytest.raises(DatasetError, match="made for 29 items, but the dataset has 30"):
        _mir(tmp_path)


def test_nuswide_with_v73_text_file(tmp_path):
    arr = make_arrays(40, classes=10, vocab=20)
    folder = tmp_path / "nuswide"
    write_dcmh_split_files(folder, arr, prefix="nus-wide-tc10")
    write_v73(folder / "nus-wide-tc10-yall.mat", {"YAll": arr["text"].astype(np.float64)})  # the v7.3 copy
    data = datasets.load("nuswide", tmp_path, num_query=5, num_train=12, seed=2)
    np.testing.assert_array_equal(data.text, arr["text"])
    np.testing.assert_array_equal(data.take("image", np.array([39, 0])), arr["images"][[39, 0]])
    assert data.split.checksum() == standard_split(40, 5, 12, seed=2).checksum()
    assert data.class_names is None and data.meta["expected_items"] == 186577
    assert (
        datasets.get("nuswide").options["num_query"] == 2100
        and datasets.get("nuswide").options["num_train"] == 10500
    )


@pytest.mark.parametrize("family, fname", [("CMMQ", "MS-COCO.h5"), ("BMC", "raw_coco.mat")])
def test_mscoco_presplit_file_split(tmp_path, family, fname):
    arr = make_arrays(26, classes=80, vocab=15)
    blocks = split_blocks(arr, (8, 5, 13))
    write_presplit(tmp_path / "mscoco" / fname, blocks, family=family)
    assert datasets.get("mscoco").available(tmp_path)
    data = datasets.load("mscoco", tmp_path)
    assert data.meta["form"] == "presplit" and data.meta["blocks"] == {"train": 8, "query": 5, "database": 13}
    np.testing.assert_array_equal(data.split.train, np.arange(8))
    np.testing.assert_array_equal(data.split.query, np.arange(8, 13))
    np.testing.assert_array_equal(data.split.database, np.arange(13, 26))
    assert data.split.protocol == "disjoint" and "frozen in" in data.split.source
    np.testing.assert_array_equal(np.asarray(data.image), arr["images"])  # both layouts come back identical
    np.testing.assert_array_equal(data.take("image", np.array([20, 2, 9])), arr["images"][[20, 2, 9]])
    np.testing.assert_array_equal(data.labels, arr["labels"])  # clean labels, FLabTrain ignored
    np.testing.assert_array_equal(data.text, arr["text"])


def test_mscoco_seeded_split_and_features(tmp_path):
    arr = make_arrays(26, classes=80, vocab=15)
    blocks = split_blocks(arr, (8, 5, 13))
    for b in blocks.values():
        b["features"] = b["images"].reshape(len(b["images"]), -1)[:, :7].astype(np.float32)
    write_presplit(tmp_path / "mscoco" / "MS-COCO.h5", blocks, features=True)
    data = datasets.load("mscoco", tmp_path, split="seeded", num_query=3, num_train=6, seed=1)
    ref = standard_split(18, 3, 6, seed=1)
    np.testing.assert_array_equal(data.split.query, ref.query + 8)
    np.testing.assert_array_equal(data.split.train, ref.train + 8)
    assert data.split.protocol == "train-in-database" and data.image_kind == "features"
    np.testing.assert_array_equal(data.image[8:13], blocks["query"]["features"])


# ------------------------------------------------------------------------------------------ errors
def test_missing_files_name_the_forms_and_the_source(tmp_path):
    with pytest.raises(DatasetFileNotFoundError) as info:
        datasets.load("nuswide", tmp_path)
    msg = str(info.value)
    assert "nus-wide-tc10-iall.mat + nus-wide-tc10-yall.mat + nus-wide-tc10-lall.mat" in msg
    assert "raw_nus.mat or NUS-WIDE.h5" in msg and "jiangqy/DCMH-CVPR2017" in msg and "\n" not in msg
    assert not datasets.get("nuswide").available(tmp_path)
    with pytest.raises(DatasetFileNotFoundError, match="expected FLICKR-25K.mat"):
        _mir(tmp_path, form="single")


def test_missing_variable(tmp_path):
    arr = make_arrays(30)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    scipy.io.savemat(tmp_path / "mirflickr25k" / "mirflickr25k-lall.mat", {"labels": arr["labels"]})
    with pytest.raises(
        MissingVariableError,
        match=r"mirflickr25k-lall.mat: no variable 'LAll' \(labels\); found: "
        r"labels \(30, 24\)",
    ):
        _mir(tmp_path)


def test_mismatched_item_counts(tmp_path):
    arr = make_arrays(30)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    scipy.io.savemat(tmp_path / "mirflickr25k" / "mirflickr25k-yall.mat", {"YAll": arr["text"][:29]})
    with pytest.raises(
        DatasetError,
        match=r"item counts differ between modalities/labels \(text bow rows 29, label "
        r"rows 30\)",
    ):
        _mir(tmp_path)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    write_v73(
        tmp_path / "mirflickr25k" / "mirflickr25k-iall.mat", {"IAll": matlab_images(arr["images"][:28])}
    )
    with pytest.raises(DatasetError, match=r"28 images .* but 30 items"):
        _mir(tmp_path)


def test_non_binary_labels_and_nan_features(tmp_path):
    arr = make_arrays(30)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    bad = arr["labels"].astype(np.float64)
    bad[3, 2] = 2
    scipy.io.savemat(tmp_path / "mirflickr25k" / "mirflickr25k-lall.mat", {"LAll": bad})
    with pytest.raises(DatasetError, match=r"'LAll': labels must be 0/1 multi-hot \(found value 2\)"):
        _mir(tmp_path)
    write_dcmh_split_files(tmp_path / "mirflickr25k", arr)
    feats = np.ones((30, 5))
    feats[7, 1] = np.nan
    feats[9, 0] = np.inf
    scipy.io.savemat(tmp_path / "mirflickr25k" / "mirflickr25k-iall.mat", {"IAll": feats})
    with pytest.raises(DatasetError, match=r"'IAll': 2 NaN/inf value\(s\) \(first in row 7\)"):
        _mir(tmp_path)


def test_unknown_option_and_form(tmp_path):
    write_dcmh_split_files(tmp_path / "mirflickr25k", make_arrays(30))
    with pytest.raises(DatasetError, match="unknown option\\(s\\) sede; valid: form, image, image_key"):
        _mir(tmp_path, sede=1)
    with pytest.raises(DatasetError, match="form 'xyz' unknown"):
        _mir(tmp_path, form="xyz")
    with pytest.raises(DatasetError, match="split 'file' not available for the dcmh form"):
        _mir(tmp_path, split="file")


def test_presplit_file_with_wrong_keys(tmp_path):
    (tmp_path / "mscoco").mkdir()
    with h5py.File(tmp_path / "mscoco" / "MS-COCO.h5", "w") as fh:
        fh["X"] = np.zeros((3, 2))
    with pytest.raises(DatasetError, match="not a pre-split file .*found: X"):
        datasets.load("mscoco", tmp_path)
