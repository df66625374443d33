"""Seeded standard splits, split index files and their validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xbench.datasets import Split
from xbench.datasets.errors import DatasetFileNotFoundError, SplitError
from xbench.datasets.splits import (
    read_split_file,
    split_filename,
    standard_split,
    validate_split,
    write_split,
)


def test_standard_split_is_the_documented_permutation():
    s = standard_split(20, 4, 6, seed=3)
    perm = np.random.default_rng(3).permutation(20)  # hand-written reference
    np.testing.assert_array_equal(s.query, np.sort(perm[:4]))
    np.testing.assert_array_equal(s.database, np.sort(perm[4:]))
    np.testing.assert_array_equal(s.train, np.sort(perm[4:10]))
    assert s.protocol == "train-in-database" and s.source == "seeded permutation (seed 3)"
    assert (
        s.checksum()
        == standard_split(20, 4, 6, seed=3).checksum()
        != standard_split(20, 4, 6, seed=4).checksum()
    )


@pytest.mark.parametrize("n, q, t, db", [(20015, 2000, 10000, 18015), (186577, 2100, 10500, 184477)])
def test_paper_sizes(n, q, t, db):
    s = standard_split(n, q, t, seed=0)
    assert s.sizes() == {"query": q, "train": t, "database": db}
    assert np.intersect1d(s.query, s.database).size == 0 and np.isin(s.train, s.database).all()
    assert validate_split(s, n).protocol == "train-in-database"


def test_standard_split_refuses_impossible_sizes():
    with pytest.raises(SplitError, match="num_query \\+ num_train = 12 exceeds the 10 items"):
        standard_split(10, 4, 8)


def test_write_read_roundtrip(tmp_path):
    s = standard_split(50, 5, 10, seed=1)
    path = write_split(s, tmp_path / "splits" / f"mir-{s.checksum()}.npz", num_items=50)
    with np.load(path) as z:
        assert sorted(z.files) == [
            "checksum",
            "database",
            "num_items",
            "protocol",
            "query",
            "source",
            "train",
        ]
        assert str(z["checksum"]) == s.checksum() and z["query"].dtype == np.int64
    back = read_split_file(path, 50)
    for part in ("query", "train", "database"):
        np.testing.assert_array_equal(getattr(back, part), getattr(s, part))
    assert (
        back.checksum() == s.checksum() and back.protocol == "train-in-database" and back.source == str(path)
    )
    assert not list(tmp_path.glob("splits/.*"))  # no temporary file left behind


def test_split_filename_is_file_safe():
    s = standard_split(10, 2, 3)
    assert split_filename("mirflickr25k", s) == f"mirflickr25k-{s.checksum()}.npz"
    assert split_filename("files:/data/my set.npz", s) == f"files-my-set-{s.checksum()}.npz"


def _write(tmp_path, name="s.npz", **arrays):
    np.savez(tmp_path / name, **arrays)
    return tmp_path / name


def test_json_split_files(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"query": [0, 1], "train": [2, 3], "database": [2, 3, 4]}))
    s = read_split_file(tmp_path / "s.json", 5)
    assert s.sizes() == {"query": 2, "train": 2, "database": 3} and s.protocol == "disjoint"


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"query": [0, 1], "train": [2]}, r"missing database .*expected query, train and database"),
        (
            {"query": [0, 10], "train": [2], "database": [2, 3]},
            r"1 'query' index\(es\) out of range for 10 items \(e\.g\. 10",
        ),
        ({"query": [1, 10], "train": [2], "database": [2, 3]}, r"1-based indices\? subtract 1"),
        ({"query": [-1], "train": [2], "database": [2, 3]}, "out of range"),
        (
            {"query": [0, 1], "train": [2], "database": [1, 2, 3]},
            r"1 item\(s\) are both query and database \(e\.g\. row 1\)",
        ),
        ({"query": [0, 1], "train": [1, 2], "database": [2, 3]}, r"both query and train"),
        ({"query": [0, 0], "train": [2], "database": [2, 3]}, r"'query' repeats 1 index"),
        ({"query": [0.5], "train": [2], "database": [2, 3]}, "integer row indices"),
        ({"query": [], "train": [2], "database": [2, 3]}, "the query set is empty"),
        ({"query": np.zeros((2, 2), int), "train": [2], "database": [3]}, "1-d index array"),
    ],
)
def test_bad_split_files_are_refused_with_one_line(tmp_path, arrays, message):
    path = _write(tmp_path, **{k: np.asarray(v) for k, v in arrays.items()})
    with pytest.raises(SplitError, match=message) as info:
        read_split_file(path, 10)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_protocols(tmp_path):
    path = _write(
        tmp_path,
        query=np.array([0, 1]),
        train=np.array([2, 5]),
        database=np.array([2, 3, 4]),
        protocol=np.str_("train-in-database"),
    )
    with pytest.raises(SplitError, match=r"1 train item\(s\) are not in the database \(e\.g\. row 5\)"):
        read_split_file(path, 10)
    assert read_split_file(path, 10, protocol="disjoint").protocol == "disjoint"  # caller overrides the file
    path = _write(
        tmp_path,
        "q.npz",
        query=np.array([0, 1]),
        train=np.array([5]),
        database=np.array([0, 1, 2]),
        protocol=np.str_("query-in-database"),
    )
    assert read_split_file(path, 10).sizes() == {"query": 2, "train": 1, "database": 3}
    with pytest.raises(SplitError, match="unknown protocol 'odd'"):
        read_split_file(path, 10, protocol="odd")


def test_checksum_and_item_count_are_verified(tmp_path):
    s = standard_split(30, 3, 5)
    path = write_split(s, tmp_path / "s.npz", num_items=30)
    with pytest.raises(SplitError, match="made for 30 items, but the dataset has 31"):
        read_split_file(path, 31)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["train"] = arrays["train"][:-1]
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(SplitError, match="checksum mismatch"):
        read_split_file(tmp_path / "edited.npz", 30)
    with pytest.raises(DatasetFileNotFoundError, match="no such file"):
        read_split_file(tmp_path / "missing.npz", 30)
    (tmp_path / "garbage.npz").write_bytes(b"xx")
    with pytest.raises(SplitError, match="not a readable .npz or .json split file"):
        read_split_file(tmp_path / "garbage.npz", 30)


def test_validate_split_keeps_the_indices():
    s = Split(np.array([3]), np.array([0, 1]), np.array([0, 1, 2]), source="x", protocol="train-in-database")
    out = validate_split(s, 4)
    assert out.checksum() == s.checksum() and out.source == "x"
