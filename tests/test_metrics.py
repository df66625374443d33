"""xbench.evaluating.metrics against a plain, hand-written reference (docs/metrics.md)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import torch

from xbench.evaluating import metrics

# ----------------------------------------------------------------------------------------------
# the reference: definitions written out literally, one query at a time
# ----------------------------------------------------------------------------------------------


def ref_distances(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Number of differing bits of ±1 codes (definition, not the (K − q·b)/2 shortcut)."""
    return (q[:, None, :] != d[None, :, :]).sum(axis=2)


def ref_relevance(ql: np.ndarray, dl: np.ndarray) -> np.ndarray:
    if ql.ndim == 1:
        return ql[:, None] == dl[None, :]
    return ((ql[:, None, :] > 0) & (dl[None, :, :] > 0)).any(axis=2)


def ref_metrics(q, d, ql, dl, topk, cutoffs):
    """Per-query AP@R, P@N, R@k by a stable sort of (distance, index); pooled PR; P@H≤2."""
    dist = ref_distances(q, d)
    rel = ref_relevance(ql, dl)
    nq, nd = dist.shape
    r = nd if topk is None else min(topk, nd)
    aps, prec, rec, p2 = [], [], [], []
    for i in range(nq):
        order = sorted(range(nd), key=lambda j: (dist[i, j], j))
        ranked = rel[i, order]
        hits, total = 0, 0.0
        for rank, is_rel in enumerate(ranked[:r], start=1):
            if is_rel:
                hits += 1
                total += hits / rank
        aps.append(total / hits if hits else 0.0)
        prec.append([ranked[:c].sum() / c for c in cutoffs])
        nrel = rel[i].sum()
        rec.append([ranked[:c].sum() / nrel if nrel else 0.0 for c in cutoffs])
        within = dist[i] <= 2
        p2.append(rel[i][within].sum() / within.sum() if within.any() else 0.0)
    k = q.shape[1]
    pr_p, pr_r = [], []
    for radius in range(k + 1):
        within = dist <= radius
        good = (within & rel).sum()
        pr_p.append(good / within.sum() if within.sum() else 0.0)
        pr_r.append(good / rel.sum() if rel.sum() else 0.0)
    return {
        "ap": np.array(aps),
        "precision": np.array(prec).mean(axis=0) if cutoffs else np.zeros(0),
        "recall": np.array(rec).mean(axis=0) if cutoffs else np.zeros(0),
        "pr_p": np.array(pr_p),
        "pr_r": np.array(pr_r),
        "p2": float(np.mean(p2)),
    }


def tied_problem(
    seed: int, nq: int, nd: int, bits: int, labels: str, num_labels: int = 6, flip: float = 0.04
):
    """Codes near a few prototypes (many exact ties); some queries with no relevant item."""
    rng = np.random.default_rng(seed)
    protos = rng.choice([-1, 1], size=(5, bits))
    q = protos[rng.integers(0, 5, nq)] * np.where(rng.random((nq, bits)) < flip, -1, 1)
    d = protos[rng.integers(0, 5, nd)] * np.where(rng.random((nd, bits)) < flip, -1, 1)
    if labels == "multi":
        ql = (rng.random((nq, num_labels)) < 0.25).astype(np.float32)
        dl = (rng.random((nd, num_labels)) < 0.25).astype(np.float32)
        ql[:3] = 0  # relevant to nothing
    elif labels == "onehot":
        ql = np.eye(num_labels, dtype=np.float32)[rng.integers(0, num_labels, nq)]
        dl = np.eye(num_labels, dtype=np.float32)[rng.integers(0, num_labels - 1, nd)]
    else:  # class indices; the last class never occurs in the database
        ql = rng.integers(0, num_labels, nq)
        dl = rng.integers(0, num_labels - 1, nd)
    return q.astype(np.int8), d.astype(np.int8), ql, dl


CUTS = (1, 3, 10, 50, 100, 299)


def assert_matches_reference(q, d, ql, dl, topk, **kw):
    s = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, **kw)
    ref = ref_metrics(q, d, ql, dl, topk, CUTS)
    np.testing.assert_allclose(s.ap, ref["ap"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.precision_at(), ref["precision"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(s.recall_at(), ref["recall"], rtol=0, atol=1e-9)
    pr = s.pr_by_radius()
    np.testing.assert_allclose(pr["precision"], ref["pr_p"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(pr["recall"], ref["pr_r"], rtol=0, atol=1e-9)
    assert s.precision_within_radius(2) == pytest.approx(ref["p2"], abs=1e-9)
    return s, ref


# ----------------------------------------------------------------------------------------------
# exact values against the reference
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [16, 24, 64, 100, 128])
@pytest.mark.parametrize("labels", ["multi", "onehot", "class"])
def test_every_metric_matches_reference(bits, labels):
    q, d, ql, dl = tied_problem(bits, 23, 240, bits, labels)
    for topk in (1, 7, 60, 239, 240, 5000, None):
        s, ref = assert_matches_reference(q, d, ql, dl, topk)
        assert s.map() == pytest.approx(ref["ap"].mean(), abs=1e-9)


def test_queries_without_relevant_items_score_zero_everywhere():
    q, d, ql, dl = tied_problem(3, 10, 80, 16, "multi")
    s = metrics.summarize(q, d, ql, dl, topk=20, cutoffs=(1, 10))
    assert np.all(s.ap[:3] == 0) and np.all(s.hits_at[:3] == 0) and np.all(s.num_relevant[:3] == 0)
    assert np.all(s.ap_tie[:3] == 0)
    assert s.ap[3:].max() > 0


def test_topk_larger_than_database_is_whole_database():
    q, d, ql, dl = tied_problem(4, 12, 90, 32, "multi")
    assert (
        metrics.mean_average_precision(q, d, ql, dl, topk=10_000)
        == metrics.mean_average_precision(q, d, ql, dl, topk=None)
        == metrics.mean_average_precision(q, d, ql, dl, topk="all")
    )


@pytest.mark.parametrize("tile_pairs", [1, 250, 2000, 7777])
def test_tiling_does_not_change_results(tile_pairs):
    q, d, ql, dl = tied_problem(5, 31, 250, 64, "multi")
    a = metrics.summarize(q, d, ql, dl, topk=50, cutoffs=CUTS)
    b = metrics.summarize(q, d, ql, dl, topk=50, cutoffs=CUTS, tile_pairs=tile_pairs)
    np.testing.assert_array_equal(a.ap, b.ap)
    np.testing.assert_array_equal(a.hist, b.hist)
    np.testing.assert_array_equal(a.hits_at, b.hits_at)
    assert_matches_reference(q, d, ql, dl, 50, tile_pairs=tile_pairs)


def test_threads_do_not_change_results():
    q, d, ql, dl = tied_problem(15, 40, 300, 32, "multi")
    a = metrics.summarize(q, d, ql, dl, topk=60, cutoffs=CUTS, tile_pairs=900)
    b = metrics.summarize(q, d, ql, dl, topk=60, cutoffs=CUTS, tile_pairs=900, threads=2)
    np.testing.assert_array_equal(a.ap, b.ap)
    np.testing.assert_array_equal(a.hist, b.hist)
    np.testing.assert_array_equal(a.hits_at, b.hits_at)


@pytest.mark.parametrize("threads", [2, 3])
def test_threads_split_scan_and_tie_average_without_changing_a_bit(threads):
    """≥ 256 queries, so the tie-averaged AP is split between threads too; R cuts through tie groups,
    exceeds the database, and the first queries have no relevant item (tied_problem)."""
    q, d, ql, dl = tied_problem(21, 300, 151, 16, "multi")  # odd database: the row-offset histogram path
    hist = metrics.summarize(q, d, ql, dl, topk=None, exact_ap=False, tie_averaged=False).hist.sum(axis=2)
    cum = np.cumsum(hist, axis=1)
    assert ((cum - hist < 40) & (cum > 40)).any(), "no tie group straddles R = 40"
    for topk in (40, 500):
        one = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=3000)
        many = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, tile_pairs=3000, threads=threads)
        for field in ("ap", "ap_tie", "hist", "hits_at"):
            np.testing.assert_array_equal(getattr(one, field), getattr(many, field))
        assert np.all(many.ap[:3] == 0) and np.all(many.ap_tie[:3] == 0)
    assert_matches_reference(q, d, ql, dl, 40, tile_pairs=3000, threads=threads)


def test_tie_average_of_a_query_does_not_depend_on_the_other_queries():
    """Huge tie groups (6 bits, 3,000 items) straddling R: long hypergeometric sums, whose float
    rounding must not depend on which queries are evaluated together (threads split the queries)."""
    rng = np.random.default_rng(3)
    q, d = rng.choice([-1, 1], (400, 6)), rng.choice([-1, 1], (3000, 6))
    ql, dl = (rng.random((400, 4)) < 0.5), (rng.random((3000, 4)) < 0.5)
    for topk in (1000, 1500):
        hist = metrics.summarize(q, d, ql, dl, topk=topk, exact_ap=False, tie_averaged=False).hist
        whole = metrics._tie_averaged(hist, topk)
        split = np.concatenate(
            [metrics._tie_averaged(hist[:133], topk), metrics._tie_averaged(hist[133:], topk)]
        )
        np.testing.assert_array_equal(whole, split)
        np.testing.assert_array_equal(whole, metrics._tie_averaged_threads(hist, topk, 3))


def test_topk_spellings():
    q, d, ql, dl = tied_problem(16, 5, 50, 16, "multi")
    assert metrics.evaluate(q, d, ql, dl, topk="20", curves=False)["topk"] == 20
    assert metrics.evaluate(q, d, ql, dl, topk="all", curves=False)["topk"] is None
    assert metrics.resolve_topk(np.int64(7), 50) == 7 and metrics.resolve_topk(80, 50) == 50
    for bad in (2.5, "x", True, -3):
        with pytest.raises(metrics.MetricInputError, match="topk"):
            metrics.resolve_topk(bad, 50)


@pytest.mark.parametrize("labels", ["multi", "class"])
def test_torch_backend_equals_numpy_backend(labels):
    q, d, ql, dl = tied_problem(6, 19, 210, 48, labels)
    for topk in (5, 100, None):
        a = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS)
        b = metrics.summarize(q, d, ql, dl, topk=topk, cutoffs=CUTS, backend="torch", tile_pairs=1000)
        np.testing.assert_allclose(a.ap, b.ap, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(a.hist, b.hist)
        np.testing.assert_array_equal(a.hits_at, b.hits_at)
        np.testing.assert_allclose(a.ap_tie, b.ap_tie, rtol=0, atol=1e-12)


def test_runner_inputs_int8_tensors_and_float_multihot():
    q, d, ql, dl = tied_problem(7, 15, 120, 32, "multi")
    as_np = metrics.evaluate(q, d, ql, dl, topk=30)
    as_torch = metrics.evaluate(
        torch.from_numpy(q), torch.from_numpy(d), torch.from_numpy(ql), torch.from_numpy(dl), topk=30
    )
    assert as_np == as_torch


def test_zero_one_codes_and_real_outputs_follow_the_sign_rule():
    q, d, ql, dl = tied_problem(8, 14, 100, 16, "multi")
    base = metrics.evaluate(q, d, ql, dl, topk=25)
    assert metrics.evaluate((q > 0).astype(np.uint8), (d > 0).astype(np.float64), ql, dl, topk=25) == base
    assert metrics.evaluate(q > 0, d > 0, ql, dl, topk=25) == base
    rng = np.random.default_rng(0)
    real_q = q * rng.uniform(0.1, 3.0, q.shape)
    real_d = d * rng.uniform(0.1, 3.0, d.shape)
    real_d[d > 0] *= np.where(rng.random((d > 0).sum()) < 0.2, 0.0, 1.0)  # exact 0 output → +1
    assert metrics.evaluate(real_q, real_d, ql, dl, topk=25) == base


def test_class_indices_equal_one_hot_rows():
    q, d, ql, dl = tied_problem(9, 18, 150, 24, "class")
    eye = np.eye(6, dtype=np.float32)
    assert metrics.evaluate(q, d, ql, dl, topk=40) == metrics.evaluate(q, d, eye[ql], eye[dl], topk=40)


def test_many_label_columns_use_several_words():
    rng = np.random.default_rng(10)
    q, d, _, _ = tied_problem(10, 12, 140, 64, "multi")
    ql = (rng.random((12, 80)) < 0.03).astype(np.float32)
    dl = (rng.random((140, 80)) < 0.03).astype(np.float32)
    assert_matches_reference(q, d, ql, dl, 30)


def test_popcount_table_fallback_matches():
    rng = np.random.default_rng(11)
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        x = rng.integers(0, np.iinfo(dt).max, size=(3, 50), dtype=dt, endpoint=True)
        a = metrics._popcount_table(x, np.empty(x.shape, np.uint8))
        b = np.array([[int(v).bit_count() for v in row] for row in x])
        np.testing.assert_array_equal(a, b)


def test_hand_computed_example():
    # one query 0000; database distances 1, 0, 1, 2, 0 (indices 0…4); relevant: 0, 2, 3
    q = np.array([[-1, -1, -1, -1]])
    d = np.array([[1, -1, -1, -1], [-1, -1, -1, -1], [-1, 1, -1, -1], [1, 1, -1, -1], [-1, -1, -1, -1]])
    ql = np.array([[1, 0]])
    dl = np.array([[1, 0], [0, 1], [1, 1], [1, 0], [0, 0]])
    # stable ranking: 1(d0,irr) 4(d0,irr) 0(d1,rel) 2(d1,rel) 3(d2,rel)
    ap_all = (Fraction(1, 3) + Fraction(2, 4) + Fraction(3, 5)) / 3
    ap_4 = (Fraction(1, 3) + Fraction(2, 4)) / 2
    assert metrics.mean_average_precision(q, d, ql, dl) == pytest.approx(float(ap_all), abs=1e-15)
    assert metrics.mean_average_precision(q, d, ql, dl, topk=4) == pytest.approx(float(ap_4), abs=1e-15)
    assert metrics.mean_average_precision(q, d, ql, dl, topk=2) == 0.0
    # tie-averaged, R = all: group d=0 (2 irr) then d=1 (2 rel at ranks 3,4) then d=2 → order-free here
    assert metrics.tie_averaged_map(q, d, ql, dl) == pytest.approx(float(ap_all), abs=1e-15)
    # tie-averaged, R = 3: the d=1 group straddles (m = 1 of 2 positions inside, both relevant) → 1/3
    assert metrics.tie_averaged_map(q, d, ql, dl, topk=3) == pytest.approx(1 / 3, abs=1e-15)
    np.testing.assert_allclose(
        metrics.precision_at_n(q, d, ql, dl, n=[1, 3, 5, 10]), [0, 1 / 3, 3 / 5, 3 / 10]
    )
    np.testing.assert_allclose(metrics.recall_at_k(q, d, ql, dl, k=[2, 4, 5]), [0, 2 / 3, 1])
    pr = metrics.pr_by_radius(q, d, ql, dl)
    assert pr["radius"] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(pr["precision"], [0, 2 / 4, 3 / 5, 3 / 5, 3 / 5])
    np.testing.assert_allclose(pr["recall"], [0, 2 / 3, 1, 1, 1])
    assert metrics.precision_within_radius(q, d, ql, dl, radius=1) == pytest.approx(0.5)
    assert metrics.precision_within_radius(q, d, ql, dl, radius=0) == 0.0
    np.testing.assert_array_equal(metrics.hamming_distances(q, d), [[1, 0, 1, 2, 0]])
    np.testing.assert_array_equal(metrics.relevance(ql, dl), [[True, False, True, True, False]])


def test_pr_radius_counts_nothing_within_as_zero_and_ends_at_recall_one():
    q = np.ones((1, 16), dtype=np.int8)
    d = -np.ones((5, 16), dtype=np.int8)  # every item at distance K
    ql = np.array([[1, 0]])
    dl = np.array([[1, 0], [0, 1], [1, 1], [0, 1], [0, 1]])
    pr = metrics.pr_by_radius(q, d, ql, dl)
    assert pr["precision"] == [0.0] * 16 + [0.4]
    assert pr["recall"] == [0.0] * 16 + [1.0]
    assert metrics.precision_within_radius(q, d, ql, dl) == 0.0


def test_evaluate_dict_is_json_and_cheap_path_omits_curves():
    q, d, ql, dl = tied_problem(13, 11, 130, 32, "multi")
    full = metrics.evaluate(q, d, ql, dl, topk=50)
    assert set(full) >= {
        "topk",
        "map",
        "map_tie_averaged",
        "topn_precision",
        "recall_at_k",
        "pr_radius",
        "precision_radius2",
        "semantics",
    }
    assert full["topn_precision"]["n"] == [1, 2, 5, 10, 20, 50, 100] == full["recall_at_k"]["k"]
    assert json.loads(json.dumps(full)) == full
    cheap = metrics.evaluate(q, d, ql, dl, topk=50, curves=False)
    assert "topn_precision" not in cheap and "pr_radius" not in cheap
    assert cheap["map"] == full["map"] and cheap["map_tie_averaged"] == full["map_tie_averaged"]
    assert full["map"] == metrics.mean_average_precision(q, d, ql, dl, topk=50)
    assert full["map_tie_averaged"] == pytest.approx(
        metrics.tie_averaged_map(q, d, ql, dl, topk=50), abs=1e-15
    )


def test_precision_beyond_database_divides_by_n():
    q, d, ql, dl = tied_problem(14, 6, 40, 16, "multi")
    s = metrics.summarize(q, d, ql, dl, cutoffs=[40, 80])
    np.testing.assert_allclose(s.precision_at()[1], s.precision_at()[0] / 2)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"query_codes": np.ones((3, 8)), "db_codes": np.ones((4, 16))}, "db_codes: 16 bits per code"),
        ({"query_labels": np.ones((2, 3))}, "query_labels: 2 rows but query_codes has 3"),
        ({"db_labels": np.ones((4, 2))}, "db_labels: 2 label columns"),
        ({"db_labels": np.arange(4)}, "db_labels: class indices but query_labels holds multi-hot"),
        ({"query_codes": np.full((3, 8), np.nan)}, "query_codes: contains NaN"),
        ({"db_codes": np.ones((0, 8))}, "db_codes: empty"),
        ({"query_codes": np.ones(8)}, "query_codes: expected a 2-D array"),
        (
            {"query_labels": np.array([0.5, 1, 2])},
            "query_labels: class indices must be non-negative integers",
        ),
        ({"topk": 0}, "topk: expected a positive integer"),
    ],
)
def test_bad_input_raises_named_error(args, message):
    kw = {
        "query_codes": np.ones((3, 8)),
        "db_codes": np.ones((4, 8)),
        "query_labels": np.ones((3, 3)),
        "db_labels": np.ones((4, 3)),
        "topk": None,
    }
    kw.update(args)
    with pytest.raises(metrics.MetricInputError, match=message):
        metrics.evaluate(**kw)


def test_strict_mode_rejects_non_binary_codes_and_labels():
    ok = {
        "query_codes": np.ones((3, 8)),
        "db_codes": -np.ones((4, 8)),
        "query_labels": np.ones((3, 3)),
        "db_labels": np.ones((4, 3)),
    }
    metrics.evaluate(**ok, strict=True)
    with pytest.raises(metrics.MetricInputError, match=r"db_codes: values must be ±1 or 0/1, found 0"):
        metrics.evaluate(**{**ok, "db_codes": np.array([[-1, 0] * 4] * 4)}, strict=True)
    with pytest.raises(metrics.MetricInputError, match=r"query_labels: multi-hot entries must be 0 or 1"):
        metrics.evaluate(**{**ok, "query_labels": np.full((3, 3), 2.0)}, strict=True)


def test_single_label_wikipedia_categories_match_reference():
    """Real single-label structure (Wikipedia's 10 categories) with 16-bit codes: many ties."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikipedia"
    if not (root / "testset_txt_img_cat.list").is_file():
        pytest.skip("Wikipedia lists not present")

    def categories(name):
        return np.array(
            [int(line.split()[-1]) - 1 for line in (root / name).read_text().splitlines() if line]
        )

    ql, dl = categories("testset_txt_img_cat.list")[:40], categories("trainset_txt_img_cat.list")
    rng = np.random.default_rng(17)
    protos = rng.choice([-1, 1], size=(10, 16))
    q = protos[ql] * np.where(rng.random((len(ql), 16)) < 0.15, -1, 1)
    d = protos[dl] * np.where(rng.random((len(dl), 16)) < 0.15, -1, 1)
    for topk in (50, 500, None):
        assert_matches_reference(q, d, ql, dl, topk)


def test_inputs_are_not_modified():
    """CSQ's evaluator rewrites its label arrays in place (docs/metrics.md); ours must not."""
    q, d, ql, dl = tied_problem(18, 8, 60, 16, "multi")
    tq = torch.from_numpy(q.astype(np.float32) * 0.5)
    copies = [a.copy() for a in (q, d, ql, dl)]
    metrics.evaluate(q, d, ql, dl, topk=10)
    metrics.evaluate(tq, d, ql, dl, topk=10, backend="torch")
    assert all(np.array_equal(a, b) for a, b in zip((q, d, ql, dl), copies, strict=False))
    assert torch.equal(tq, torch.from_numpy(q.astype(np.float32) * 0.5))
