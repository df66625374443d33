"""The one-row scan of xbench.evaluating.metrics (a tile is one query row at NUS-WIDE size), the
label-row order that reuses relevance, the tie-averaged AP computed inside the scan threads and the
integer fast path of the code check: every value equals the multi-row path and the reference."""

from __future__ import annotations

import numpy as np
import pytest

from xbench.evaluating import metrics

try:
    from test_metrics import CUTS, assert_matches_reference, tied_problem
except ImportError:  # pragma: no cover - when tests/ is a package
    from .test_metrics import CUTS, assert_matches_reference, tied_problem

FIELDS = ("ap", "ap_tie", "hist", "hits_at")


def shared_label_rows(seed: int, nq: int, nd: int, bits: int, num_labels: int = 6):
    """Tied codes and multi-hot labels where queries repeat a few label rows in scattered order, so
    the scan meets each label row several times, interleaved with others (relevance reuse)."""
    q, d, _, dl = tied_problem(seed, nq, nd, bits, "multi", num_labels=num_labels)
    rng = np.random.default_rng(seed + 1)
    rows = (rng.random((4, num_labels)) < 0.35).astype(np.float32)
    rows[0] = 0  # a label row relevant to nothing
    ql = rows[rng.integers(0, 4, nq)]
    return q, d, ql, dl


def assert_same(a: metrics.RankingSummary, b: metrics.RankingSummary) -> None:
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


@pytest.mark.parametrize(
    ("bits", "labels", "nd"),
    [
        (16, "multi", 151),  # odd database: the row histogram takes the offset path
        (64, "multi", 240),
        (72, "class", 187),  # two code words, K not a multiple of 64
        (100, "onehot", 200),
        (130, "multi", 120),  # keys above 255: uint16 keys
    ],
)
def test_one_row_tiles_equal_multi_row_tiles_and_the_reference(bits, labels, nd):
    q, d, ql, dl = tied_problem(bits + nd, 29, nd, bits, labels)
    for topk in (1, 9, 60, nd - 1, None):
        rows = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=1)
        tiles = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=7 * nd + 3)
        assert_same(rows, tiles)
    assert_matches_reference(q, d, ql, dl, 40, tile_pairs=1)


def test_one_row_path_cuts_through_a_tie_group_in_database_order():
    """R ends inside a group of tied items that mixes relevant and irrelevant ones: the prefix must
    keep that group's database order (a sort on the key 2·d + rel would put irrelevant items first)."""
    q, d, ql, dl = tied_problem(31, 12, 300, 8, "multi", flip=0.02)
    hist = metrics.summarize(q, d, ql, dl, topk=None, exact_ap=False, tie_averaged=False).hist
    cum = np.cumsum(hist.sum(axis=2), axis=1)
    straddles = (cum - hist.sum(axis=2) < 70) & (cum > 70) & (hist[:, :, 0] > 0) & (hist[:, :, 1] > 0)
    assert straddles.any(), "no mixed tie group straddles R = 70"
    assert_matches_reference(q, d, ql, dl, 70, tile_pairs=1)


def test_queries_sharing_label_rows_reuse_relevance_without_changing_a_value():
    q, d, ql, dl = shared_label_rows(40, 37, 211, 24)
    assert len(np.unique(ql, axis=0)) == 4
    for tile_pairs in (1, 500, None):
        assert_matches_reference(q, d, ql, dl, 30, tile_pairs=tile_pairs)
    classes = np.random.default_rng(41).integers(0, 3, 37)  # class indices repeat too
    assert_matches_reference(q, d, classes, np.arange(211) % 4, 30, tile_pairs=1)


def test_label_order_groups_equal_rows_and_is_a_permutation():
    _, _, ql, _ = shared_label_rows(42, 50, 10, 8)
    qlw = metrics._pack(ql > 0)
    order, ids = metrics._label_order(qlw)
    assert sorted(order.tolist()) == list(range(50))
    runs = ids[order]
    assert np.all(runs[1:] >= runs[:-1]) and len(np.unique(ids)) == len(np.unique(ql, axis=0))
    for i in range(50):  # equal ids ⇔ equal label rows
        np.testing.assert_array_equal(ids == ids[i], (ql == ql[i]).all(axis=1))


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_on_one_row_tiles_change_no_bit(threads):
    """Odd block sizes (301 queries over 4·threads blocks), R through tie groups and beyond the
    database; the tie-averaged AP is computed block by block inside the threads."""
    q, d, ql, dl = shared_label_rows(43, 301, 97, 16)
    for topk in (25, 500):
        one = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=1)
        many = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=1, threads=threads)
        assert_same(one, many)
        np.testing.assert_array_equal(one.ap_tie, metrics._tie_averaged(one.hist, min(topk, 97)))


def test_integer_codes_take_the_fast_check_with_the_same_rule_and_errors():
    assert metrics.code_bits(np.array([[3, -2, 0]]), "c").tolist() == [[True, False, True]]
    assert metrics.code_bits(np.array([[0, 1, 1]], np.uint8), "c", strict=True).tolist() == [[0, 1, 1]]
    assert metrics.code_bits(np.array([[-1, 1]], np.int64), "c", strict=True).tolist() == [[False, True]]
    assert metrics.code_bits(np.array([[-1, -1]], np.int8), "c", strict=True).tolist() == [[False, False]]
    for bad, found in (([[-1, 0], [1, 1]], "0"), ([[2, 1]], "2"), ([[1, -3]], "-3")):
        with pytest.raises(metrics.MetricInputError, match=f"c: values must be ±1 or 0/1, found {found}"):
            metrics.code_bits(np.array(bad, np.int16), "c", strict=True)


def test_row_histograms_of_any_width_without_an_offset_buffer():
    rng = np.random.default_rng(44)
    for dtype, nbins, width in (
        (np.uint8, 130, 1),
        (np.uint8, 130, 2),
        (np.uint8, 66, 151),
        (np.uint16, 300, 7),
    ):
        keys = rng.integers(0, nbins, (3, width)).astype(dtype)
        out = np.empty((3, nbins), np.int64)
        metrics._bincount_rows(keys, nbins, out)
        expected = np.stack([np.bincount(row, minlength=nbins) for row in keys.astype(np.int64)])
        np.testing.assert_array_equal(out, expected)
