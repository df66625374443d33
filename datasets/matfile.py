"""Named arrays from MATLAB ``.mat`` (v4/v5/v7 and v7.3), plain HDF5, ``.npz`` and ``.npy`` files.

The community distributes the cross-modal hashing datasets in all of these
(docs/datasets.md):

* **MAT v4/v5/v7** — read with ``scipy.io.loadmat``; arrays arrive in MATLAB's own orientation.
* **MAT v7.3** — an HDF5 file behind a 512-byte MATLAB header. ``h5py`` reads every array with
  **all axes reversed** (a MATLAB N×D array arrives as D×N). :class:`ArrayFile` undoes this:
  :meth:`ArrayFile.shape` and :meth:`ArrayFile.read` give MATLAB's orientation, and
  :meth:`ArrayFile.raw` hands out the stored (reversed) dataset for lazy reading.
* **plain HDF5** (``.h5``/``.h5py``, written from Python) — no reversal.
* **.npz / .npy** — NumPy's own formats (``.npy`` is memory-mapped, so it can hold images).

The format is told from the file's header, never from its suffix (two copies of the same
DCMH file circulate in different MAT versions, e.g. DJSRH vs UCCH readers). :func:`write_v73` writes the
layout MATLAB's ``save -v7.3`` produces, so tests (and users) can build such files without MATLAB.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DatasetError, DatasetFileNotFoundError, MissingVariableError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"
NPY_SIGNATURE = b"\x93NUMPY"
MATLAB_INTERNAL = ("#refs#", "#subsystem#")
FORMATS = ("mat73", "mat5", "mat4", "hdf5", "npz", "npy")

_MATLAB_CLASS = {
    np.dtype(np.float64): "double",
    np.dtype(np.float32): "single",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint16): "uint16",
    np.dtype(np.int16): "int16",
    np.dtype(np.uint32): "uint32",
    np.dtype(np.int32): "int32",
    np.dtype(np.uint64): "uint64",
    np.dtype(np.int64): "int64",
    np.dtype(np.bool_): "logical",
}


def file_format(path: str | Path) -> str:
    """The container format of ``path`` from its header: one of :data:`FORMATS`.

    Raises :class:`DatasetError` for anything else (with the first bytes it found).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(2056)
    if head.startswith(b"MATLAB 7.3") and head[512:520] == HDF5_SIGNATURE:
        return "mat73"
    if any(head[o : o + 8] == HDF5_SIGNATURE for o in (0, 512, 1024, 2048)):
        return "hdf5"
    if head.startswith(ZIP_SIGNATURE):
        return "npz"
    if head.startswith(NPY_SIGNATURE):
        return "npy"
    if head.startswith(b"MATLAB") and len(head) >= 128:
        return "mat5"
    if path.suffix.lower() == ".mat" and head:
        from scipy.io.matlab import matfile_version

        try:
            with open(path, "rb") as fh:
                major, _ = matfile_version(fh)
        except Exception:  # noqa: BLE001 — any failure means "not a MAT file"
            major = None
        if major == 0:
            return "mat4"
    shown = head[:16].decode("latin-1").encode("unicode_escape").decode()
    raise DatasetError(
        f"{path}: not a MATLAB .mat (v4/v5/v7/v7.3), HDF5, .npz or .npy file (it starts with '{shown}')"
    )


def _walk_h5(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    import h5py

    for key in group:
        if key in MATLAB_INTERNAL:
            continue
        obj = group[key]
        name = f"{prefix}{key}"
        if isinstance(obj, h5py.Dataset) or "MATLAB_sparse" in obj.attrs:
            yield name, obj
        elif isinstance(obj, h5py.Group):
            yield from _walk_h5(obj, name + "/")


class ArrayFile:
    """Read-only access to the named arrays of one file, in MATLAB/NumPy orientation.

    Use as a context manager, or call :meth:`close`. For HDF5 files the handle must stay
    open while lazy arrays taken from :meth:`raw` are in use (the loaders keep it open).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetFileNotFoundError(f"{self.path}: no such file")
        self.format = file_format(self.path)
        self._h5 = None
        self._npz = None
        self._npy = None
        self._entries: dict[str, Any] = {}
        self.matlab_order = self.format == "mat73"
        if self.format in ("mat73", "hdf5"):
            import h5py

            try:
                self._h5 = h5py.File(self.path, "r")
            except OSError as exc:
                raise DatasetError(f"{self.path}: cannot open as HDF5 ({exc})") from None
            self._entries = dict(_walk_h5(self._h5))
            if not self.matlab_order:  # MATLAB-written HDF5 without the header text
                self.matlab_order = any("MATLAB_class" in obj.attrs for obj in self._entries.values())
        elif self.format == "npz":
            try:
                self._npz = np.load(self.path, allow_pickle=False)
            except Exception as exc:  # noqa: BLE001
                raise DatasetError(f"{self.path}: cannot read .npz ({exc})") from None
            self._entries = {k: None for k in self._npz.files}
        elif self.format == "npy":
            try:
                self._npy = np.load(self.path, mmap_mode="r", allow_pickle=False)
            except Exception as exc:  # noqa: BLE001
                raise DatasetError(f"{self.path}: cannot read .npy ({exc})") from None
            self._entries = {self.path.stem: None}
        else:
            from scipy.io import whosmat

            try:
                info = whosmat(self.path)
            except Exception as exc:  # noqa: BLE001
                raise DatasetError(
                    f"{self.path}: cannot read MAT file ({type(exc).__name__}: {exc})"
                ) from None
            self._entries = {name: (tuple(shape), cls) for name, shape, cls in info}

    # -- context management -------------------------------------------------------------
    def close(self) -> None:
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None
        if self._npz is not None:
            self._npz.close()
            self._npz = None

    def __enter__(self) -> ArrayFile:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookup -------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def first_present(self, candidates: tuple[str, ...] | list[str]) -> str | None:
        """The first of ``candidates`` held by the file (exact name, then case-insensitive)."""
        for c in candidates:
            if c in self._entries:
                return c
        lower = {n.lower(): n for n in self._entries}
        for c in candidates:
            if c.lower() in lower:
                return lower[c.lower()]
        return None

    def require(self, name: str, role: str = "") -> str:
        """``name`` if present, else :class:`MissingVariableError` listing what the file holds."""
        if name in self._entries:
            return name
        found = ", ".join(f"{n} {self.shape(n)}" for n in self.names()) or "nothing"
        what = f" ({role})" if role else ""
        raise MissingVariableError(f"{self.path}: no variable '{name}'{what}; found: {found}")

    def require_any(self, candidates: tuple[str, ...] | list[str], role: str) -> str:
        name = self.first_present(candidates)
        if name is None:
            found = ", ".join(f"{n} {self.shape(n)}" for n in self.names()) or "nothing"
            raise MissingVariableError(
                f"{self.path}: no {role} variable (looked for {', '.join(candidates)}); found: {found}"
            )
        return name

    def shape(self, name: str) -> tuple[int, ...]:
        """Shape in MATLAB/NumPy orientation (v7.3 axes un-reversed)."""
        self.require(name)
        if self._h5 is not None:
            obj = self._entries[name]
            if "MATLAB_sparse" in obj.attrs:
                return (int(obj.attrs["MATLAB_sparse"]), int(obj["jc"].shape[0]) - 1)
            shape = tuple(int(s) for s in obj.shape)
            return shape[::-1] if self.matlab_order else shape
        if self._npz is not None:
            return tuple(self._npz[name].shape)
        if self._npy is not None:
            return tuple(self._npy.shape)
        return self._entries[name][0]

    # -- reading --------------------------------------------------------------------------
    def read(self, name: str) -> np.ndarray:
        """The whole array, loaded, in MATLAB/NumPy orientation (sparse matrices densified)."""
        self.require(name)
        if self._h5 is not None:
            obj = self._entries[name]
            if "MATLAB_sparse" in obj.attrs:
                return _read_h5_sparse(obj)
            arr = obj[()]
            return np.ascontiguousarray(np.transpose(arr)) if self.matlab_order else np.asarray(arr)
        if self._npz is not None:
            return np.asarray(self._npz[name])
        if self._npy is not None:
            return np.asarray(self._npy)
        from scipy.io import loadmat

        try:
            arr = loadmat(self.path, variable_names=[name])[name]
        except Exception as exc:  # noqa: BLE001
            raise DatasetError(
                f"{self.path}: cannot read variable '{name}' ({type(exc).__name__}: {exc})"
            ) from None
        if hasattr(arr, "toarray"):
            arr = arr.toarray()
        return np.asarray(arr)

    def raw(self, name: str) -> tuple[Any, bool]:
        """The stored array (an ``h5py.Dataset`` or a (memory-mapped) ndarray) and whether its
        axes are MATLAB-reversed. Used for lazy, row-wise reading of large image arrays."""
        self.require(name)
        if self._h5 is not None:
            obj = self._entries[name]
            if "MATLAB_sparse" in obj.attrs:
                return _read_h5_sparse(obj), False
            return obj, self.matlab_order
        if self._npy is not None:
            return self._npy, False
        return self.read(name), False

    def attribute(self, name: str, default: Any = None) -> Any:
        """A scalar stored under ``name`` (e.g. metadata in an .npz), or ``default``."""
        if name not in self._entries:
            return default
        arr = self.read(name)
        return arr.item() if arr.size == 1 else arr


def _read_h5_sparse(group: Any) -> np.ndarray:
    """A MATLAB v7.3 sparse matrix (CSC: ``data``, ``ir``, ``jc``) as a dense array."""
    import scipy.sparse

    rows = int(group.attrs["MATLAB_sparse"])
    jc = np.asarray(group["jc"][()], dtype=np.int64)
    cols = len(jc) - 1
    if "data" not in group:
        return np.zeros((rows, cols))
    data = np.asarray(group["data"][()])
    ir = np.asarray(group["ir"][()], dtype=np.int64)
    return scipy.sparse.csc_matrix((data, ir, jc), shape=(rows, cols)).toarray()


# -- writing ------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds,
    so a failure never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_npz(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write ``arrays`` to an uncompressed ``.npz`` atomically (the name is kept as given)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})
    return Path(path)


def write_v73(path: str | Path, arrays: dict[str, Any]) -> Path:
    """Write ``arrays`` (given in MATLAB orientation) as MATLAB's ``save -v7.3`` lays them out.

    A 512-byte user block with the MATLAB header text, then HDF5 datasets stored with their
    axes reversed and a ``MATLAB_class`` attribute — what h5py-based readers of the DCMH files
    see. Enough for any HDF5 reader and for xbench; not guaranteed to open in MATLAB itself
    (no ``#refs#``/``#subsystem#`` groups).
    """
    import h5py

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", userblock_size=512) as fh:
            for name, value in arrays.items():
                arr = np.asarray(value)
                cls = _MATLAB_CLASS.get(arr.dtype)
                if cls is None:
                    raise ValueError(f"write_v73: unsupported dtype {arr.dtype} for '{name}'")
                stored = np.ascontiguousarray(np.transpose(arr.astype(np.uint8) if cls == "logical" else arr))
                ds = fh.create_dataset(name, data=stored)
                ds.attrs["MATLAB_class"] = np.bytes_(cls)
                if cls == "logical":
                    ds.attrs["MATLAB_int_decode"] = np.int32(1)
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(0))
        text = f"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: {stamp} HDF5 schema 1.00 .".encode()
        header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
        with open(tmp, "r+b") as fh:
            fh.write(header)
    return Path(path)
