"""Per-query values: returned by ``metrics.evaluate(per_query=True)`` and stored in each run's .npz."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xbench.evaluating import metrics
from xbench.reporting import results

try:
    from conftest import tiny_options
except ImportError:  # pragma: no cover - when tests/ is a package
    from .conftest import tiny_options


def _example(seed: int = 0, nq: int = 30, nd: int = 200, bits: int = 16, classes: int = 5):
    rng = np.random.default_rng(seed)
    q = rng.choice([-1, 1], size=(nq, bits))
    d = rng.choice([-1, 1], size=(nd, bits))
    ql = (rng.random((nq, classes)) < 0.3).astype(np.uint8)
    dl = (rng.random((nd, classes)) < 0.3).astype(np.uint8)
    return q, d, ql, dl


def test_per_query_values_average_to_the_reported_metrics():
    q, d, ql, dl = _example()
    out = metrics.evaluate(q, d, ql, dl, topk=50, per_query=True)
    pq = out["per_query"]
    assert set(pq) == set(metrics.PER_QUERY_FIELDS)
    assert pq["ap"].shape == (30,) and pq["ap"].mean() == pytest.approx(out["map"], abs=1e-15)
    assert pq["ap_tie"].mean() == pytest.approx(out["map_tie_averaged"], abs=1e-15)
    assert pq["precision_radius2"].mean() == pytest.approx(out["precision_radius2"], abs=1e-15)
    np.testing.assert_allclose((pq["hits_at"] / pq["cutoffs"]).mean(0), out["topn_precision"]["precision"])
    rel = np.maximum(pq["num_relevant"], 1)[:, None]
    np.testing.assert_allclose((pq["hits_at"] / rel).mean(0), out["recall_at_k"]["recall"])
    # against the independent per-query reference of the metrics module
    np.testing.assert_allclose(pq["ap"], metrics.average_precisions(q, d, ql, dl, topk=50), atol=1e-15)
    np.testing.assert_array_equal(pq["num_relevant"], metrics.relevance(ql, dl).sum(1))
    dist = metrics.hamming_distances(q, d)
    rel_m = metrics.relevance(ql, dl)
    within = dist <= 2
    expect = np.where(within.sum(1) > 0, (within & rel_m).sum(1) / np.maximum(within.sum(1), 1), 0.0)
    np.testing.assert_allclose(pq["precision_radius2"], expect, atol=1e-15)
    # the default result stays JSON-serialisable (no arrays)
    assert "per_query" not in metrics.evaluate(q, d, ql, dl, topk=50)


def test_run_stores_per_query_values(cli, tmp_path):
    cli("run", "--methods", "lsh", "--bits", "8", "--results", tmp_path, "-q", *tiny_options())
    (record,) = results.load(tmp_path).records
    data, arrays = {"metrics": record.metrics}, record.arrays()
    for task in ("i2t", "t2i"):
        ap = arrays[f"per_query_{task}_ap"]
        assert ap.shape == (data["metrics"][task]["num_queries"],)
        assert ap.mean() == pytest.approx(data["metrics"][task]["map"], abs=1e-12)
        assert arrays[f"per_query_{task}_ap_tie"].mean() == pytest.approx(
            data["metrics"][task]["map_tie_averaged"], abs=1e-12
        )
        assert "per_query" not in json.dumps(data["metrics"][task])
    np.testing.assert_array_equal(arrays["query_index"].shape, arrays["per_query_i2t_ap"].shape)


def test_compare_on_stored_runs(cli, tmp_path):
    """End to end: two variants of a method, two seeds, compared from what `xbench run` stored."""
    common = [
        "--methods",
        "lsh",
        "--bits",
        "16",
        "--seeds",
        "0,1",
        "--results",
        tmp_path,
        "-q",
        *tiny_options(),
    ]
    cli("run", *common)
    cli("run", *common, "--set", "lsh.center=false")
    res = cli(
        "compare",
        "--results",
        tmp_path,
        "--pair",
        "LSH [center=False],LSH",
        "--format",
        "csv",
        "--resamples",
        "999",
    )
    assert res.exit_code == 0, res.output
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["task"], r["a"], r["b"], r["seeds"], r["n_queries"]) for r in rows] == [
        ("i2t", "LSH [center=False]", "LSH", "0 1", "40"),
        ("t2i", "LSH [center=False]", "LSH", "0 1", "40"),
    ]
    frame = results.load_runs(tmp_path)
    for r in rows:  # the means are those of the stored runs (mean over seeds of the JSON mAP)
        for label, center in ((r["a"], False), (r["b"], True)):
            sel = frame[
                (frame["task"] == r["task"]) & (frame["hparams"] == ("{}" if center else '{"center": false}'))
            ]
            assert float(r["mean_a" if label == r["a"] else "mean_b"]) == pytest.approx(sel["map"].mean())
        assert float(r["ci_low"]) <= float(r["diff"]) <= float(r["ci_high"]) and 0 < float(r["p"]) <= 1
