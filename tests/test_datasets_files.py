"""``files:PATH`` — a user's own .npz / .h5 / .mat file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

from xbench import datasets
from xbench.datasets.errors import (
    DatasetError,
    DatasetFileNotFoundError,
    MissingVariableError,
    SplitError,
)
from xbench.datasets.matfile import write_v73
from xbench.datasets.splits import standard_split
from xbench.datasets.testing import H, W, make_arrays, matlab_images


def test_npz_with_features_and_default_split(tmp_path):
    rng = np.random.default_rng(0)
    image, text = rng.normal(size=(50, 6)), rng.poisson(1.0, size=(50, 9))
    labels = rng.integers(0, 3, 50)  # class indices
    np.savez(tmp_path / "mine.npz", image=image, text=text, labels=labels)
    data = datasets.load(f"files:{tmp_path / 'mine.npz'}")
    assert (
        data.name == f"files:{tmp_path / 'mine.npz'}"
        and data.image_kind == "features"
        and data.text_kind == "bow"
    )
    np.testing.assert_array_equal(data.labels, np.eye(3, dtype=np.uint8)[labels])
    # default split: min(2000, N // 10) = 5 queries, min(10000, N − 5) = 45 training items, seed 0
    assert data.split.checksum() == standard_split(50, 5, 45, seed=0).checksum()
    assert data.default_topk is None  # database ≤ 5,000 → R = all
    data = datasets.load(f"files:{tmp_path / 'mine.npz'}", seed=2, num_query=10, num_train=20, topk=100)
    assert data.split.checksum() == standard_split(50, 10, 20, seed=2).checksum() and data.default_topk == 100


def test_relative_path_under_the_data_root(tmp_path):
    np.savez(
        tmp_path / "mine.npz",
        image=np.ones((20, 2)),
        text=np.ones((20, 2)),
        labels=np.eye(2)[np.arange(20) % 2],
    )
    assert datasets.load("files:mine.npz", tmp_path).num_items == 20
    with pytest.raises(DatasetFileNotFoundError, match="files:nothere.npz: no such file"):
        datasets.load("files:nothere.npz", tmp_path)


def test_split_arrays_in_the_file_and_their_completion(tmp_path):
    arr = make_arrays(12, classes=4, vocab=5)
    base = {"image": arr["images"], "text": arr["text"], "labels": arr["labels"]}
    np.savez(tmp_path / "a.npz", **base, query=[0, 1], train=[2, 3], database=[2, 3, 4, 5])
    s = datasets.load(f"files:{tmp_path / 'a.npz'}").split
    assert s.sizes() == {"query": 2, "train": 2, "database": 4} and s.protocol == "disjoint"
    np.savez(tmp_path / "b.npz", **base, query=[0, 1])  # database = the rest, train = database
    s = datasets.load(f"files:{tmp_path / 'b.npz'}").split
    np.testing.assert_array_equal(s.database, np.arange(2, 12))
    np.testing.assert_array_equal(s.train, np.arange(2, 12))
    np.savez(tmp_path / "c.npz", **base, query=[1, 2], database=[3, 12])  # 1-based (MATLAB)
    s = datasets.load(f"files:{tmp_path / 'c.npz'}", index_base=1).split
    np.testing.assert_array_equal(s.query, [0, 1])
    np.testing.assert_array_equal(s.database, [2, 11])
    with pytest.raises(SplitError, match="out of range for 12 items .*1-based indices"):
        datasets.load(f"files:{tmp_path / 'c.npz'}")
    np.savez(tmp_path / "d.npz", **base, query=[0, 1], train=[2], database=[1, 2])
    with pytest.raises(SplitError, match="both query and database"):
        datasets.load(f"files:{tmp_path / 'd.npz'}")
    assert (
        datasets.load(f"files:{tmp_path / 'd.npz'}", protocol="query-in-database").split.protocol
        == "query-in-database"
    )
    np.savez(tmp_path / "e.npz", **base, train=[0, 1])
    with pytest.raises(DatasetError, match="has 'train' but no 'query' index array"):
        datasets.load(f"files:{tmp_path / 'e.npz'}")


def test_images_in_h5_and_v73_and_v5(tmp_path):
    arr = make_arrays(10, classes=3, vocab=4)
    with h5py.File(tmp_path / "x.h5", "w") as fh:
        fh["images"], fh["texts"], fh["label"] = (
            arr["images"].transpose(0, 2, 3, 1),
            arr["text"],
            arr["labels"],
        )
    data = datasets.load(f"files:{tmp_path / 'x.h5'}")
    assert data.image.shape == (10, 3, H, W)
    np.testing.assert_array_equal(data.take("image", np.array([9, 2])), arr["images"][[9, 2]])
    write_v73(
        tmp_path / "y.mat",
        {"image": matlab_images(arr["images"]), "text": arr["text"], "labels": arr["labels"]},
    )
    np.testing.assert_array_equal(
        np.asarray(datasets.load(f"files:{tmp_path / 'y.mat'}").image), arr["images"]
    )
    scipy.io.savemat(
        tmp_path / "z.mat",
        {"image": matlab_images(arr["images"]), "text": arr["text"], "labels": arr["labels"]},
    )
    np.testing.assert_array_equal(datasets.load(f"files:{tmp_path / 'z.mat'}").image, arr["images"])


def test_key_overrides_and_errors(tmp_path):
    np.savez(
        tmp_path / "k.npz",
        img=np.ones((6, 2)),
        txt=np.ones((6, 3)),
        y=np.eye(2)[[0, 1, 0, 1, 0, 1]],
        names=np.array(["a", "b"]),
    )
    with pytest.raises(
        MissingVariableError,
        match=r"no image variable \(looked for image, images, features\); "
        "found: img",
    ):
        datasets.load(f"files:{tmp_path / 'k.npz'}", text_key="txt", labels_key="y")
    data = datasets.load(
        f"files:{tmp_path / 'k.npz'}",
        image_key="img",
        text_key="txt",
        labels_key="y",
        num_query=2,
        num_train=3,
    )
    assert data.num_items == 6 and data.split.sizes() == {"query": 2, "train": 3, "database": 4}
    with pytest.raises(DatasetError, match="unknown option\\(s\\) colour"):
        datasets.load(f"files:{tmp_path / 'k.npz'}", colour=1)
    np.savez(
        tmp_path / "m.npz", image=np.ones((6, 2)), text=np.ones((5, 3)), labels=np.eye(2)[[0, 1, 0, 1, 0, 1]]
    )
    with pytest.raises(DatasetError, match=r"item counts differ .*'text' rows 5, 'labels' rows 6"):
        datasets.load(f"files:{tmp_path / 'm.npz'}")
    np.savez(
        tmp_path / "n.npz", image=np.ones((7, 2)), text=np.ones((6, 3)), labels=np.eye(2)[[0, 1, 0, 1, 0, 1]]
    )
    with pytest.raises(DatasetError, match="7 feature rows, but the dataset has 6 items"):
        datasets.load(f"files:{tmp_path / 'n.npz'}")
    np.savez(
        tmp_path / "o.npz",
        image=np.ones((6, 2)),
        text=np.full((6, 3), np.inf),
        labels=np.eye(2)[[0, 1, 0, 1, 0, 1]],
    )
    with pytest.raises(DatasetError, match=r"'text': 18 NaN/inf value\(s\) \(first in row 0\)"):
        datasets.load(f"files:{tmp_path / 'o.npz'}")
    np.savez(tmp_path / "p.npz", image=np.ones((6, 2)), text=np.ones((6, 3)), labels=np.full((6, 2), 0.5))
    with pytest.raises(DatasetError, match="labels must be 0/1 multi-hot \\(found value 0.5\\)"):
        datasets.load(f"files:{tmp_path / 'p.npz'}")


def test_text_kind_follows_the_values(tmp_path):
    labels = np.eye(2)[[0, 1, 0, 1]]
    np.savez(
        tmp_path / "t.npz",
        image=np.ones((4, 2)),
        text=np.array([[0.5, 1], [1, 1], [0, 2], [3, 0]]),
        labels=labels,
    )
    data = datasets.load(f"files:{tmp_path / 't.npz'}", num_query=1, num_train=2)
    assert data.text_kind == "features" and data.text.dtype == np.float32
    np.savez(
        tmp_path / "u.npz",
        image=np.ones((4, 2)),
        text=np.array([[0, 1000], [1, 1], [0, 2], [3, 0]]),
        labels=labels,
    )
    data = datasets.load(f"files:{tmp_path / 'u.npz'}", num_query=1, num_train=2)
    assert data.text_kind == "bow" and data.text.dtype == np.float32 and data.text[0, 1] == 1000
