"""MAT v5 / v7.3 / HDF5 / npz reading, orientation, and lazy N×3×H×W images."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import scipy.io
import scipy.sparse

from xbench.datasets.errors import (
    DatasetError,
    DatasetFileNotFoundError,
    MissingVariableError,
)
from xbench.datasets.images import (
    ConcatRows,
    LazyImages,
    detect_layout,
    images_from_array,
)
from xbench.datasets.matfile import ArrayFile, file_format, write_v73
from xbench.datasets.testing import H, W, make_arrays, matlab_images


def test_formats_told_from_header_not_suffix(tmp_path):
    a = np.arange(6.0).reshape(2, 3)
    scipy.io.savemat(tmp_path / "v5.mat", {"A": a})
    write_v73(tmp_path / "v73.mat", {"A": a})
    with h5py.File(tmp_path / "plain.mat", "w") as fh:  # HDF5 named .mat, written from Python
        fh["A"] = a
    np.savez(tmp_path / "x.npz", A=a)
    scipy.io.savemat(tmp_path / "v4.mat", {"A": a}, format="4")
    (tmp_path / "junk.mat").write_bytes(b"hello world, not a mat file")
    assert [file_format(tmp_path / f) for f in ("v5.mat", "v73.mat", "plain.mat", "x.npz", "v4.mat")] == [
        "mat5",
        "mat73",
        "hdf5",
        "npz",
        "mat4",
    ]
    with pytest.raises(DatasetError, match=r"junk\.mat: not a MATLAB .*starts with 'hello world"):
        file_format(tmp_path / "junk.mat")


def test_v73_arrays_come_back_in_matlab_orientation(tmp_path):
    a = np.arange(12, dtype=np.float64).reshape(3, 4)  # MATLAB 3×4
    b = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_v73(tmp_path / "f.mat", {"A": a, "B": b, "flag": np.array([[True, False]])})
    with h5py.File(tmp_path / "f.mat", "r") as fh:  # what h5py users see: axes reversed
        assert fh["A"].shape == (4, 3) and fh["B"].shape == (4, 3, 2)
        assert fh["A"].attrs["MATLAB_class"] == b"double"
    with ArrayFile(tmp_path / "f.mat") as af:
        assert af.format == "mat73" and af.matlab_order
        assert af.shape("A") == (3, 4) and af.shape("B") == (2, 3, 4)
        np.testing.assert_array_equal(af.read("A"), a)
        np.testing.assert_array_equal(af.read("B"), b)
        np.testing.assert_array_equal(af.read("flag"), [[1, 0]])
        stored, reversed_ = af.raw("A")
        assert reversed_ and stored.shape == (4, 3)
    with open(tmp_path / "f.mat", "rb") as fh:
        head = fh.read(128)
    assert head.startswith(b"MATLAB 7.3 MAT-file") and head[126:128] == b"IM"


def test_v5_and_npz_and_plain_hdf5_read_as_written(tmp_path):
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    scipy.io.savemat(tmp_path / "v5.mat", {"A": a, "S": scipy.sparse.csc_matrix(a)})
    with ArrayFile(tmp_path / "v5.mat") as af:
        assert sorted(af.names()) == ["A", "S"] and af.shape("A") == (3, 4) and not af.matlab_order
        np.testing.assert_array_equal(af.read("A"), a)
        np.testing.assert_array_equal(af.read("S"), a)  # sparse densified
    with h5py.File(tmp_path / "p.h5", "w") as fh:
        fh["grp/A"] = a
    with ArrayFile(tmp_path / "p.h5") as af:
        assert af.names() == ["grp/A"] and af.shape("grp/A") == (3, 4)
        np.testing.assert_array_equal(af.read("grp/A"), a)
    np.save(tmp_path / "feat.npy", a)
    with ArrayFile(tmp_path / "feat.npy") as af:
        assert af.names() == ["feat"]
        np.testing.assert_array_equal(af.read("feat"), a)


def test_v73_sparse_matrix_is_densified(tmp_path):
    dense = np.array([[0, 2, 0], [1, 0, 0], [0, 0, 3], [0, 4, 0]], dtype=np.float64)  # MATLAB 4×3
    csc = scipy.sparse.csc_matrix(dense)
    with h5py.File(tmp_path / "s.mat", "w") as fh:
        g = fh.create_group("YAll")
        g.attrs["MATLAB_class"] = np.bytes_("double")
        g.attrs["MATLAB_sparse"] = np.uint64(4)
        g["data"], g["ir"], g["jc"] = csc.data, csc.indices.astype(np.uint64), csc.indptr.astype(np.uint64)
    with ArrayFile(tmp_path / "s.mat") as af:
        assert af.matlab_order and af.shape("YAll") == (4, 3)
        np.testing.assert_array_equal(af.read("YAll"), dense)


def test_missing_variable_lists_what_was_found(tmp_path):
    scipy.io.savemat(tmp_path / "l.mat", {"LAbels": np.eye(3)})
    with ArrayFile(tmp_path / "l.mat") as af:
        with pytest.raises(
            MissingVariableError, match=r"l\.mat: no variable 'LAll' \(labels\); found: LAbels \(3, 3\)"
        ):
            af.require("LAll", "labels")
        assert af.first_present(["labels"]) == "LAbels"  # case-insensitive fallback
    with pytest.raises(DatasetFileNotFoundError, match="nope.mat: no such file"):
        ArrayFile(tmp_path / "nope.mat")


@pytest.mark.parametrize(
    "layout, to_stored",
    [
        ("NCHW", lambda x: x),
        ("NHWC", lambda x: x.transpose(0, 2, 3, 1)),
        ("HWCN", lambda x: x.transpose(2, 3, 1, 0)),
    ],
)
def test_layout_detection_and_orientation_in_memory(layout, to_stored):
    imgs = make_arrays(7)["images"]
    stored = np.ascontiguousarray(to_stored(imgs))
    assert detect_layout(stored.shape, 7, matlab_order=False) == layout
    out = images_from_array(stored, layout)
    assert isinstance(out, np.ndarray) and out.shape == (7, 3, H, W) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, imgs)


def test_dcmh_v73_images_come_back_identical_and_lazy(tmp_path):
    imgs = make_arrays(9)["images"]
    write_v73(tmp_path / "iall.mat", {"IAll": matlab_images(imgs)})
    with h5py.File(tmp_path / "iall.mat", "r") as fh:
        assert fh["IAll"].shape == (9, 3, W, H)  # the documented DCMH h5py layout (N, C, W, H)
    af = ArrayFile(tmp_path / "iall.mat")
    source, reversed_ = af.raw("IAll")
    layout = detect_layout(source.shape, 9, reversed_)
    assert layout == "NCWH"
    lazy = images_from_array(source, layout)
    assert isinstance(lazy, LazyImages) and lazy.shape == (9, 3, H, W) and len(lazy) == 9
    np.testing.assert_array_equal(np.asarray(lazy), imgs)
    idx = np.array([8, 0, 3, 3, -1, 4])  # any order, repeats, negative
    np.testing.assert_array_equal(lazy[idx], imgs[idx])
    np.testing.assert_array_equal(lazy[2:7:2], imgs[2:7:2])
    np.testing.assert_array_equal(lazy[5], imgs[5])
    np.testing.assert_array_equal(lazy[np.arange(9) % 2 == 0], imgs[::2])
    with pytest.raises(IndexError, match="row 9 out of range for 9 rows"):
        lazy[[1, 9]]
    clone = pickle.loads(pickle.dumps(lazy))  # reopens the file (h5py datasets do not pickle)
    np.testing.assert_array_equal(clone[[1, 2]], imgs[[1, 2]])
    af.close()


def test_sparse_reads_of_a_large_index_use_both_paths():
    imgs = np.random.default_rng(1).integers(0, 256, (700, 3, 2, 2), dtype=np.uint8)
    lazy = LazyImages(imgs.transpose(2, 3, 1, 0), "HWCN")  # N on the last axis
    idx = np.concatenate([np.arange(0, 300), np.arange(300, 700, 7)])[::-1]
    np.testing.assert_array_equal(lazy[idx], imgs[idx])


def test_layout_override_and_errors():
    assert detect_layout((4, 3, 5, 6), 4, False, layout="nchw") == "NCHW"
    assert detect_layout((6, 5, 3, 4), 4, True, layout="NCHW") == "WHCN"  # user speaks MATLAB order
    with pytest.raises(DatasetError, match="permutation of the letters"):
        detect_layout((4, 3, 5, 6), 4, False, layout="NCHX")
    with pytest.raises(DatasetError, match=r"10 images \(shape \(10, 3, 5, 6\) read as NCHW\), but 4 items"):
        detect_layout((10, 3, 5, 6), 4, False)
    with pytest.raises(DatasetError, match="cannot tell the axis order"):
        detect_layout((4, 2, 5, 6), 4, False)
    with pytest.raises(DatasetError, match="4-d array"):
        detect_layout((4, 3, 5), 4, False)
    with pytest.raises(DatasetError, match="raw images must be uint8"):
        LazyImages(np.zeros((2, 3, 4, 4), dtype=np.float32), "NCHW")


def test_concat_rows_dispatches_to_parts():
    a, b = np.arange(12).reshape(4, 3), np.arange(100, 109).reshape(3, 3)
    cat = ConcatRows([a, b])
    assert cat.shape == (7, 3)
    np.testing.assert_array_equal(cat[[6, 0, 4, 3]], np.concatenate([a, b])[[6, 0, 4, 3]])
    np.testing.assert_array_equal(np.asarray(cat), np.concatenate([a, b]))
    with pytest.raises(DatasetError, match="cannot join"):
        ConcatRows([a, np.zeros((2, 4))])


def test_in_memory_double_images_are_accepted_when_integral():
    imgs = make_arrays(4)["images"]
    out = images_from_array(matlab_images(imgs).astype(np.float64), "HWCN")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, imgs)
    with pytest.raises(DatasetError, match="raw images must hold integers 0–255"):
        images_from_array(matlab_images(imgs) / 255.0, "HWCN")
