"""Raw images as N×3×H×W uint8, read lazily from whatever axis order the file stores.

The distributed files store the same images in different axis orders
(DCMH TF load_data.py L4-11, SSAH load_data.py, BMC-SDNU raw_*.mat readers; docs/datasets.md):

=========================================  ===========================  =====================
file                                       array as h5py/scipy gives it  layout (stored order)
=========================================  ===========================  =====================
DCMH ``FLICKR-25K.mat`` / ``*-iall.mat``   (N, 3, W, H) (v7.3)           ``NCWH``
MATLAB ``H×W×3×N`` saved as v5             (H, W, 3, N)                  ``HWCN``
CMMQ/NRCH ``*.h5`` (written by h5py)       (N, H, W, 3)                  ``NHWC``
a NumPy array in PyTorch order             (N, 3, H, W)                  ``NCHW``
=========================================  ===========================  =====================

A *layout* names the stored axes with the letters N, C, H, W. :func:`detect_layout` picks it
from the shape: the array is first put in MATLAB's orientation (v7.3 axes reversed back),
then read as ``N×C×H×W``, ``N×H×W×C`` or ``H×W×C×N`` — whichever puts the item count N and the
3 channels in place (checked in that order). Square images cannot reveal H versus W; MATLAB's
natural ``H×W×3×N`` stacking is assumed for MATLAB files. Pass ``image_layout`` (in the file's
MATLAB/NumPy orientation, e.g. ``HWCN``) when a file does not follow these conventions.
Note: the BMC-SDNU ``raw_*.mat`` consumers read their h5py (A, B, 3, N) array as HWC with
A = height; the rule above reads MATLAB's N×3×B×A as N×C×H×W, i.e. with H and W swapped
relative to them — pass ``image_layout=NCWH`` to follow their reading.

:class:`LazyImages` reads only the requested rows, so a 3 GB file is never loaded eagerly;
:class:`ConcatRows` joins several arrays row-wise (the pre-split files' train / query /
database blocks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import DatasetError

OUT_LAYOUT = "NCHW"
CHANNELS = 3
_LOGICAL_PATTERNS = ("NCHW", "NHWC", "HWCN")


def detect_layout(
    stored_shape: Sequence[int],
    num_items: int,
    matlab_order: bool,
    where: str = "images",
    layout: str | None = None,
) -> str:
    """The stored-axis layout of a 4-d image array (see the module docstring).

    ``layout`` (if given) is the user's override in MATLAB/NumPy orientation; it is validated
    and converted to the stored order. Raises :class:`DatasetError` when nothing fits.
    """
    stored_shape = tuple(int(s) for s in stored_shape)
    if len(stored_shape) != 4:
        raise DatasetError(f"{where}: images must be a 4-d array, got shape {stored_shape}")
    logical = stored_shape[::-1] if matlab_order else stored_shape
    if layout is not None:
        layout = str(layout).upper()
        if sorted(layout) != sorted(OUT_LAYOUT):
            raise DatasetError(
                f"image_layout '{layout}': expected a permutation of the letters N, C, H, W "
                "(e.g. NCHW, NHWC, HWCN)"
            )
        chosen = layout
    else:
        chosen = None
        for pattern in _LOGICAL_PATTERNS:
            dims = dict(zip(pattern, logical, strict=False))
            if dims["N"] == num_items and dims["C"] == CHANNELS:
                chosen = pattern
                break
        if chosen is None:
            for pattern in _LOGICAL_PATTERNS:
                dims = dict(zip(pattern, logical, strict=False))
                if dims["C"] == CHANNELS and dims["N"] != num_items and logical.count(CHANNELS) == 1:
                    raise DatasetError(
                        f"{where}: {dims['N']} images (shape {logical} read as {pattern}), but "
                        f"{num_items} items in the other modality/labels"
                    )
            raise DatasetError(
                f"{where}: cannot tell the axis order of images of shape {logical} for {num_items} items "
                f"with {CHANNELS} channels; pass image_layout (e.g. NCHW, NHWC, HWCN)"
            )
    dims = dict(zip(chosen, logical, strict=False))
    if dims["N"] != num_items:
        raise DatasetError(f"{where}: {dims['N']} images along N of layout {chosen}, but {num_items} items")
    if dims["C"] != CHANNELS:
        raise DatasetError(
            f"{where}: {dims['C']} channels along C of layout {chosen}; expected {CHANNELS} (RGB)"
        )
    return chosen[::-1] if matlab_order else chosen


def _normalise_index(index: Any, n: int) -> tuple[np.ndarray, bool]:
    """Row selector → (int64 indices, scalar?) with range checks (negative counts from the end)."""
    if isinstance(index, (int, np.integer)):
        idx, scalar = np.array([int(index)], dtype=np.int64), True
    elif isinstance(index, slice):
        return np.arange(n, dtype=np.int64)[index], False
    else:
        arr = np.asarray(index)
        if arr.dtype == bool:
            if arr.shape != (n,):
                raise IndexError(f"boolean row mask of shape {arr.shape} for {n} rows")
            return np.flatnonzero(arr).astype(np.int64), False
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise IndexError(
                f"rows must be selected by an int, a slice or a 1-d integer array, got {arr.dtype} "
                f"shape {arr.shape}"
            )
        idx, scalar = arr.astype(np.int64), False
    idx = np.where(idx < 0, idx + n, idx)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)][0]
        raise IndexError(f"row {bad} out of range for {n} rows")
    return idx, scalar


class LazyImages:
    """An N×3×H×W uint8 view of a stored image array, reading only requested rows.

    ``source`` is an ``h5py.Dataset``, a memory-mapped or in-memory ndarray; ``layout`` its
    stored axis order (:func:`detect_layout`). Supports ``shape``, ``dtype``, ``len``,
    ``np.asarray`` and row indexing by int, slice or integer array (any order, repeats allowed).
    """

    ndim = 4

    def __init__(self, source: Any, layout: str, where: str = "images"):
        self.source = source
        self.layout = layout
        self.where = where
        self.owner: Any = None  # an open file object to keep alive with this view
        dtype = np.dtype(source.dtype)
        if dtype != np.uint8 and not np.issubdtype(dtype, np.integer):
            raise DatasetError(f"{where}: raw images must be uint8 (0–255), got {dtype}")
        self._n_axis = layout.index("N")
        rest = layout.replace("N", "")
        self._perm = (0,) + tuple(1 + rest.index(c) for c in "CHW")
        dims = dict(zip(layout, (int(s) for s in source.shape), strict=False))
        self.shape = (dims["N"], dims["C"], dims["H"], dims["W"])
        self.dtype = np.dtype(np.uint8)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyImages(shape={self.shape}, stored layout {self.layout}, {self.where})"

    def _read_sorted(self, rows: np.ndarray) -> np.ndarray:
        """Rows (sorted, unique) in stored order with N moved first; contiguous runs read as slices."""
        pre = (slice(None),) * self._n_axis
        blocks = []
        start = 0
        while start < len(rows):
            stop = min(start + 256, len(rows))
            group = rows[start:stop]
            lo, hi = int(group[0]), int(group[-1]) + 1
            if hi - lo <= 2 * len(group):
                block = np.asarray(self.source[pre + (slice(lo, hi),)])
                block = np.take(block, group - lo, axis=self._n_axis)
            else:
                block = np.asarray(self.source[pre + (group.tolist(),)])
            blocks.append(np.moveaxis(block, self._n_axis, 0))
            start = stop
        if not blocks:
            rest = [int(s) for i, s in enumerate(self.source.shape) if i != self._n_axis]
            return np.zeros([0] + rest, dtype=self.dtype)
        return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, tuple):
            if len(index) == 1:
                index = index[0]
            else:
                return self[index[0]][(slice(None),) + tuple(index[1:])]
        idx, scalar = _normalise_index(index, self.shape[0])
        if idx.size and np.all(np.diff(idx) == 1):
            pre = (slice(None),) * self._n_axis
            rows = np.moveaxis(
                np.asarray(self.source[pre + (slice(int(idx[0]), int(idx[-1]) + 1),)]), self._n_axis, 0
            )
        else:
            uniq, inverse = np.unique(idx, return_inverse=True)
            rows = self._read_sorted(uniq)[inverse.reshape(-1)]
        out = np.ascontiguousarray(np.transpose(rows, self._perm))
        if out.dtype != np.uint8:
            if out.size and (out.min() < 0 or out.max() > 255):
                raise DatasetError(f"{self.where}: image values outside 0–255")
            out = out.astype(np.uint8)
        return out[0] if scalar else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[slice(None)]
        return out.astype(dtype) if dtype is not None else out

    def __reduce__(self):  # h5py datasets do not pickle: reopen the file in the other process
        import h5py

        if isinstance(self.source, h5py.Dataset):
            return (_reopen, (self.source.file.filename, self.source.name, self.layout, self.where))
        return (LazyImages, (np.asarray(self.source), self.layout, self.where))


def _reopen(filename: str, name: str, layout: str, where: str) -> LazyImages:
    import h5py

    fh = h5py.File(filename, "r")
    images = LazyImages(fh[name], layout, where)
    images.owner = fh
    return images


def images_from_array(source: Any, layout: str, where: str = "images") -> Any:
    """NCHW uint8 images: an ndarray in memory is permuted once; HDF5/memmap sources stay lazy.

    In-memory float arrays are accepted when every value is an integer in 0–255 (MATLAB users
    often store images as double)."""
    if isinstance(source, np.ndarray) and not isinstance(source, np.memmap):
        if np.issubdtype(source.dtype, np.floating):
            if source.size and (
                not np.isfinite(source).all()
                or source.min() < 0
                or source.max() > 255
                or np.any(source != np.round(source))
            ):
                raise DatasetError(
                    f"{where}: raw images must hold integers 0–255 (uint8); found other values"
                )
            source = source.astype(np.uint8)
        lazy = LazyImages(source, layout, where)
        return lazy[slice(None)]
    return LazyImages(source, layout, where)


class ConcatRows:
    """Several arrays (ndarray or lazy) joined along rows without loading them."""

    def __init__(self, parts: Sequence[Any]):
        if not parts:
            raise ValueError("ConcatRows needs at least one part")
        tail = tuple(parts[0].shape[1:])
        for p in parts[1:]:
            if tuple(p.shape[1:]) != tail:
                raise DatasetError(f"cannot join blocks of shapes {parts[0].shape} and {p.shape}")
        self.parts = list(parts)
        self._offsets = np.cumsum([0] + [int(p.shape[0]) for p in parts])
        self.shape = (int(self._offsets[-1]),) + tail
        self.dtype = np.dtype(parts[0].dtype)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> np.ndarray:
        idx, scalar = _normalise_index(index, self.shape[0])
        out = np.empty((len(idx),) + self.shape[1:], dtype=self.dtype)
        part_of = np.searchsorted(self._offsets, idx, side="right") - 1
        for k, part in enumerate(self.parts):
            where = np.flatnonzero(part_of == k)
            if where.size:
                out[where] = np.asarray(part[idx[where] - self._offsets[k]])
        return out[0] if scalar else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[slice(None)]
        return out.astype(dtype) if dtype is not None else out
