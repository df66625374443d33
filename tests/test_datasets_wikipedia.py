"""The SVCL Wikipedia loader: the real copy (when present) and a miniature for the error paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xbench import datasets
from xbench.datasets.errors import DatasetError, DatasetFileNotFoundError
from xbench.datasets.testing import write_wikipedia

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(
    not (SHARED_DATA / "wikipedia" / "raw_features.mat").is_file(),
    reason="../shared/data/wikipedia not present",
)
def test_real_wikipedia_copy():
    assert datasets.get("wikipedia").available(SHARED_DATA)
    data = datasets.load("wikipedia", SHARED_DATA)
    assert data.num_items == 2866 and data.num_classes == 10 and not data.multi_label
    assert data.split.sizes() == {"query": 693, "train": 2173, "database": 2173}
    np.testing.assert_array_equal(data.split.query, np.arange(2173, 2866))
    np.testing.assert_array_equal(data.split.train, data.split.database)
    assert data.image_kind == "features" and data.image_dim == 128 and data.text_dim == 10
    assert data.text_kind == "features" and data.default_topk is None
    assert data.class_names[0] == "art" and data.class_names[-1] == "warfare"
    # unbalanced classes, docs/datasets.md: train 138 (art) … 347 (warfare), test 34 … 104
    train_counts = data.labels[data.split.train].sum(0)
    test_counts = data.labels[data.split.query].sum(0)
    assert (train_counts.min(), train_counts.max()) == (138, 347) and (train_counts[0], train_counts[9]) == (
        138,
        347,
    )
    assert (test_counts.min(), test_counts.max()) == (34, 104)
    np.testing.assert_allclose(data.image.sum(1), 1.0, atol=1e-4)  # BoVW histograms
    first = (SHARED_DATA / "wikipedia" / "testset_txt_img_cat.list").read_text().splitlines()[0].split("\t")
    assert data.labels[2173].argmax() == int(first[2]) - 1 and data.meta["text_ids"][2173] == first[0]


def test_miniature_wikipedia(tmp_path):
    ref = write_wikipedia(tmp_path / "wikipedia")
    data = datasets.load("wikipedia", tmp_path)
    assert data.num_items == 17 and data.split.sizes() == {"query": 5, "train": 12, "database": 12}
    np.testing.assert_allclose(data.image[:12], ref["I_tr"], rtol=1e-6)
    np.testing.assert_allclose(data.text[12:], ref["T_te"], rtol=1e-6)
    np.testing.assert_array_equal(
        data.labels.argmax(1), np.concatenate([ref["cat_train"], ref["cat_test"]]) - 1
    )
    assert data.labels.sum() == 17
    with pytest.raises(DatasetError, match=r"unknown option\(s\) seed; valid: protocol"):
        datasets.load("wikipedia", tmp_path, seed=1)


def test_wikipedia_errors(tmp_path):
    with pytest.raises(
        DatasetFileNotFoundError, match="wikipedia: missing raw_features.mat, trainset_txt_img_cat.list"
    ):
        datasets.load("wikipedia", tmp_path)
    folder = tmp_path / "wikipedia"
    write_wikipedia(folder)
    lines = (folder / "testset_txt_img_cat.list").read_text().splitlines()
    (folder / "testset_txt_img_cat.list").write_text("\n".join(lines[:-1]))
    with pytest.raises(
        DatasetError,
        match=r"wikipedia \(test\): item counts differ .*I_te rows 5, T_te rows 5, "
        r"testset_txt_img_cat.list lines 4",
    ):
        datasets.load("wikipedia", tmp_path)
    (folder / "testset_txt_img_cat.list").write_text("\n".join(lines[:-1] + ["a\tb\t11"]))
    with pytest.raises(DatasetError, match="categories must be 1..10, found"):
        datasets.load("wikipedia", tmp_path)
    (folder / "testset_txt_img_cat.list").write_text("\n".join(lines[:-1] + ["a\tb\tart"]))
    with pytest.raises(DatasetError, match="line 5: category 'art' is not an integer"):
        datasets.load("wikipedia", tmp_path)
