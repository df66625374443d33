"""Real-valued (cosine / Euclidean) retrieval against an exact brute-force reference."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from xbench.evaluating import metrics
from xbench.evaluating import realvalued as rv


def _exact_scores(q: np.ndarray, d: np.ndarray, similarity: str) -> list[list]:
    """Exact similarities of integer vectors as comparable keys (no floating point)."""
    out = []
    for qi in q.tolist():
        row = []
        for bi in d.tolist():
            if similarity == "euclidean":
                row.append(-sum((a - b) ** 2 for a, b in zip(qi, bi, strict=False)))
            else:
                dot = sum(a * b for a, b in zip(qi, bi, strict=False))
                nq, nb = sum(a * a for a in qi), sum(b * b for b in bi)
                # cos = dot / sqrt(nq nb); compare sign(dot)·dot² / (nq nb) exactly
                row.append(
                    Fraction(0)
                    if nq == 0 or nb == 0
                    else Fraction((1 if dot >= 0 else -1) * dot * dot, nq * nb)
                )
        out.append(row)
    return out


def _ap(rel_ranked: list[int], topk: int) -> float:
    hits, total = 0, 0.0
    for i, r in enumerate(rel_ranked[:topk], 1):
        if r:
            hits += 1
            total += hits / i
    return total / hits if hits else 0.0


def _reference(q, d, ql, dl, similarity, topk):
    """Brute force: exact AP (ties by index), tie-averaged AP over every order inside ties, P@N."""
    scores = _exact_scores(q, d, similarity)
    aps, ties, prec = [], [], []
    for i, row in enumerate(scores):
        rel = [int(ql[i] == c) for c in dl]
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))
        aps.append(_ap([rel[j] for j in order], topk))
        groups = [list(g) for _, g in itertools.groupby(order, key=lambda j: row[j])]
        vals = [
            _ap([rel[j] for g in p for j in g], topk)
            for p in itertools.product(*[list(itertools.permutations(g)) for g in groups])
        ]
        ties.append(float(np.mean(vals)))
        prec.append([sum(rel[j] for j in order[:n]) / n for n in (1, 2, 5)])
    return float(np.mean(aps)), float(np.mean(ties)), np.mean(prec, axis=0)


def _cases():
    rng = np.random.default_rng(3)
    for case in range(12):
        nd = 7
        base = rng.integers(-2, 3, (4, 3))
        d = base[rng.integers(0, 4, nd)]  # duplicated database vectors → ties
        if case % 3 == 0:
            d[1] = 2 * d[0]  # same direction: a cosine tie, not a Euclidean one
        q = rng.integers(-2, 3, (5, 3))
        yield q, d, rng.integers(0, 3, 5), rng.integers(0, 3, nd)


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
@pytest.mark.parametrize("topk", [3, 7])
def test_matches_brute_force_with_ties(similarity, topk):
    for q, d, ql, dl in _cases():
        out = rv.evaluate(q, d, ql, dl, similarity=similarity, topk=topk, cutoffs=[1, 2, 5])
        m, mt, p = _reference(q, d, ql, dl, similarity, topk)
        assert out["map"] == pytest.approx(m, abs=1e-12)
        assert out["map_tie_averaged"] == pytest.approx(mt, abs=1e-12)
        assert np.allclose(out["topn_precision"]["precision"], p, atol=1e-12)


@pytest.mark.parametrize("similarity", ["cosine", "euclidean"])
def test_pm1_codes_equal_hamming(similarity):
    """±1 codes: cosine = 1 − 2d/K and ‖q − b‖² = 4d, so every number equals the Hamming one."""
    rng = np.random.default_rng(0)
    for k in (8, 16, 64):
        q, d = rng.choice([-1, 1], (40, k)), rng.choice([-1, 1], (60, k))
        ql, dl = rng.integers(0, 2, (40, 4)), rng.integers(0, 2, (60, 4))
        a = rv.evaluate(3.0 * q if similarity == "cosine" else q, d, ql, dl, similarity=similarity, topk=25)
        b = metrics.evaluate(q, d, ql, dl, topk=25)
        assert a["map"] == pytest.approx(b["map"], abs=1e-12)
        assert a["map_tie_averaged"] == pytest.approx(b["map_tie_averaged"], abs=1e-12)
        assert np.allclose(a["topn_precision"]["precision"], b["topn_precision"]["precision"])
        assert np.allclose(a["recall_at_k"]["recall"], b["recall_at_k"]["recall"])


def test_tiles_do_not_change_results():
    rng = np.random.default_rng(1)
    q, d = rng.normal(size=(33, 5)), rng.normal(size=(20, 5))
    ql, dl = rng.integers(0, 3, 33), rng.integers(0, 3, 20)
    a = rv.summarize(q, d, ql, dl, topk=10, cutoffs=[1, 5], tile_pairs=7)
    b = rv.summarize(q, d, ql, dl, topk=10, cutoffs=[1, 5])
    assert np.array_equal(a.ap, b.ap) and np.array_equal(a.ap_tie, b.ap_tie)


def test_cosine_ignores_scale_euclidean_does_not():
    rng = np.random.default_rng(2)
    q, d = rng.normal(size=(10, 4)), rng.normal(size=(30, 4))
    ql, dl = rng.integers(0, 3, 10), rng.integers(0, 3, 30)
    scale = rng.uniform(0.1, 10, (30, 1))
    assert rv.evaluate(q, d * scale, ql, dl)["map"] == pytest.approx(rv.evaluate(q, d, ql, dl)["map"])
    assert rv.similarities(q, d, "euclidean")[0, 0] == pytest.approx(-((q[0] - d[0]) ** 2).sum())


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"similarity": "hamming"}, "similarity"),
        ({"query": np.full((2, 3), np.nan)}, "query_embeddings"),
        ({"database": np.zeros((4, 2))}, "dimensions"),
    ],
)
def test_bad_input(bad, message):
    args = {"query": np.ones((2, 3)), "database": np.ones((4, 3)), "similarity": "cosine"}
    args.update(bad)
    with pytest.raises(metrics.MetricInputError, match=message):
        rv.evaluate(args["query"], args["database"], [0, 1], [0, 1, 0, 1], similarity=args["similarity"])


def test_evaluate_cli_similarity(tmp_path):
    from click.testing import CliRunner

    from xbench.cli import main

    rng = np.random.default_rng(5)
    arrays = {
        "query_codes": rng.normal(size=(12, 4)),
        "db_codes": rng.normal(size=(30, 4)),
        "query_labels": rng.integers(0, 3, 12),
        "db_labels": rng.integers(0, 3, 30),
    }
    np.savez(tmp_path / "emb.npz", **arrays)
    res = CliRunner().invoke(
        main, ["evaluate", str(tmp_path / "emb.npz"), "--similarity", "euclidean", "--topk", "all"]
    )
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.stdout)
    ref = rv.evaluate(
        arrays["query_codes"],
        arrays["db_codes"],
        arrays["query_labels"],
        arrays["db_labels"],
        similarity="euclidean",
    )
    assert out["map"] == ref["map"] and out["similarity"] == "euclidean" and "pr_radius" not in out
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "emb.npz")])
    assert res.exit_code == 2 and "--similarity cosine or euclidean" in res.output


def test_pr_curve_with_real_valued_embeddings_is_refused(tmp_path):
    """The pooled curve is by Hamming radius: asked for embeddings it is a one-line error, exit 2."""
    from click.testing import CliRunner

    from xbench.cli import main

    rng = np.random.default_rng(3)
    np.savez(
        tmp_path / "emb.npz",
        query_codes=rng.normal(size=(5, 4)),
        db_codes=rng.normal(size=(9, 4)),
        query_labels=rng.integers(0, 3, 5),
        db_labels=rng.integers(0, 3, 9),
    )
    res = CliRunner().invoke(
        main, ["evaluate", str(tmp_path / "emb.npz"), "--similarity", "cosine", "--pr-curve"]
    )
    assert res.exit_code == 2 and "--pr-curve: applies to Hamming codes only" in res.output
