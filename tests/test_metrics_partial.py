"""``summarize(pooled=False)``: without the pooled PR curve a one-row tile resolves its query's
histogram only up to a distance D ≥ d* (and ≥ 2); every other value equals the full scan and the
plain reference, the histogram is exact through D and lumps the rest at D + 1."""

from __future__ import annotations

import numpy as np
import pytest

from xbench.evaluating import metrics

try:
    from test_metrics import CUTS, ref_metrics, tied_problem
    from test_metrics_rowpath import shared_label_rows
except ImportError:  # pragma: no cover - when tests/ is a package
    from .test_metrics import CUTS, ref_metrics, tied_problem
    from .test_metrics_rowpath import shared_label_rows

PROBLEMS = [
    (1, "multi", 90),  # one bit: the radius floor 2 lies beyond K
    (16, "multi", 151),
    (64, "multi", 240),
    (72, "class", 187),  # two code words
    (100, "onehot", 200),
    (130, "multi", 120),  # distances above 127
]


def assert_partial_equals_full(
    full: metrics.RankingSummary, part: metrics.RankingSummary, reach: int
) -> None:
    for field in ("ap", "ap_tie", "hits_at"):
        np.testing.assert_array_equal(getattr(part, field), getattr(full, field), err_msg=field)
    np.testing.assert_array_equal(part.num_relevant, full.num_relevant)
    np.testing.assert_array_equal(part.recall_at(), full.recall_at())
    assert part.precision_within_radius(2) == full.precision_within_radius(2)
    pq_full, pq_part = metrics.per_query_values(full), metrics.per_query_values(part)
    np.testing.assert_array_equal(pq_part["precision_radius2"], pq_full["precision_radius2"])
    assert part.exact_through is not None and full.exact_through is None
    bits = full.bits
    for i, dcap in enumerate(part.exact_through.tolist()):
        assert min(2, bits) <= dcap <= bits
        assert full.hist[i, : dcap + 1].sum() >= min(reach, full.num_database)  # D holds the top `reach`
        np.testing.assert_array_equal(part.hist[i, : dcap + 1], full.hist[i, : dcap + 1])
        if dcap < bits:
            np.testing.assert_array_equal(part.hist[i, dcap + 1], full.hist[i, dcap + 1 :].sum(axis=0))
            assert not part.hist[i, dcap + 2 :].any()


@pytest.mark.parametrize(("bits", "labels", "nd"), PROBLEMS)
def test_partial_rows_equal_the_full_scan(bits, labels, nd):
    q, d, ql, dl = tied_problem(bits + nd, 29, nd, bits, labels)
    for topk in (1, 9, 60, nd - 1, None):
        kw = dict(topk=topk, cutoffs=CUTS, tile_pairs=1)
        full = metrics.summarize(q, d, ql, dl, **kw)
        part = metrics.summarize(q, d, ql, dl, pooled=False, **kw)
        reach = max(metrics.resolve_topk(topk, nd), max(c for c in CUTS if c <= nd))
        assert_partial_equals_full(full, part, reach)


@pytest.mark.parametrize(("bits", "labels", "nd"), PROBLEMS[:3])
def test_partial_rows_match_the_reference(bits, labels, nd):
    q, d, ql, dl = tied_problem(7 * bits + nd, 23, nd, bits, labels)
    s = metrics.summarize(q, d, ql, dl, topk=40, cutoffs=CUTS, tile_pairs=1, pooled=False)
    ref = ref_metrics(q, d, ql, dl, 40, CUTS)
    np.testing.assert_allclose(s.ap, ref["ap"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.precision_at(), ref["precision"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.recall_at(), ref["recall"], rtol=0, atol=1e-9)
    assert s.precision_within_radius(2) == pytest.approx(ref["p2"], abs=1e-9)


def test_tie_averaged_alone_resolves_the_group_that_straddles_r():
    """Without exact AP or cut-offs the prefix is empty, yet the tie-averaged AP@R needs every group
    up to the one that straddles R: D must reach R items, not the (zero) prefix length."""
    q, d, ql, dl = tied_problem(5, 19, 260, 12, "multi", flip=0.08)
    for topk in (3, 70, 200):
        kw = dict(topk=topk, cutoffs=(), exact_ap=False, tile_pairs=1)
        full = metrics.summarize(q, d, ql, dl, **kw)
        part = metrics.summarize(q, d, ql, dl, pooled=False, **kw)
        np.testing.assert_array_equal(part.ap_tie, full.ap_tie)
        assert (np.cumsum(full.hist.sum(axis=2), axis=1)[np.arange(19), part.exact_through] >= topk).all()


def test_shared_label_rows_and_threads_change_no_value():
    """The relevant count is taken once per label row; the d* guess carries over between queries
    and threads: neither may change a value."""
    q, d, ql, dl = shared_label_rows(40, 37, 211, 24)
    full = metrics.summarize(q, d, ql, dl, topk=30, cutoffs=CUTS, tile_pairs=1)
    for threads in (1, 2, 3):
        part = metrics.summarize(
            q, d, ql, dl, topk=30, cutoffs=CUTS, tile_pairs=1, pooled=False, threads=threads
        )
        assert_partial_equals_full(full, part, 299)


def test_partial_summary_refuses_the_pooled_curve_and_wide_radii():
    q, d, ql, dl = tied_problem(3, 11, 300, 32, "multi")
    part = metrics.summarize(q, d, ql, dl, topk=5, cutoffs=(), tile_pairs=1, pooled=False)
    with pytest.raises(metrics.MetricInputError, match="pr_by_radius: needs distances up to 32"):
        part.pr_by_radius()
    too_far = int(part.exact_through.min()) + 1
    with pytest.raises(metrics.MetricInputError, match="precision_within_radius"):
        part.precision_within_radius(too_far)
    # P@H≤2 is always resolved, even where the top R lies within distance 0 or 1
    top1 = metrics.summarize(q, d, ql, dl, topk=1, cutoffs=(), tile_pairs=1, pooled=False)
    full = metrics.summarize(q, d, ql, dl, topk=1, cutoffs=(), tile_pairs=1)
    assert (np.cumsum(full.hist.sum(axis=2), axis=1)[:, 1] >= 1).any()  # some top-1 lies within d ≤ 1
    assert (top1.exact_through >= 2).all()
    assert top1.precision_within_radius(2) == full.precision_within_radius(2)
    # multi-row tiles (small databases) keep the full histogram whatever `pooled` says
    tiles = metrics.summarize(q, d, ql, dl, topk=5, cutoffs=(), pooled=False)
    assert tiles.exact_through is None and len(tiles.pr_by_radius()["radius"]) == 33


def test_evaluate_without_pr_curve_leaves_only_the_pooled_curve_out():
    q, d, ql, dl = tied_problem(8, 13, 150, 16, "multi")
    full = metrics.evaluate(q, d, ql, dl, topk=20)
    lean = metrics.evaluate(q, d, ql, dl, topk=20, pr_curve=False)
    assert "pr_radius" in full and "pr_radius" not in lean
    assert {k: v for k, v in full.items() if k != "pr_radius"} == lean
