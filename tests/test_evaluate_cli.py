"""`xbench evaluate CODES.npz`: results equal the Python API; bad files exit 2 with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from xbench.cli import main
from xbench.evaluating import metrics


def arrays(seed: int = 0, nq: int = 15, nd: int = 200, bits: int = 32, labels: int = 5):
    rng = np.random.default_rng(seed)
    protos = rng.choice([-1, 1], size=(4, bits))
    q = protos[rng.integers(0, 4, nq)] * np.where(rng.random((nq, bits)) < 0.05, -1, 1)
    d = protos[rng.integers(0, 4, nd)] * np.where(rng.random((nd, bits)) < 0.05, -1, 1)
    return {
        "query_codes": q.astype(np.int8),
        "db_codes": d.astype(np.int8),
        "query_labels": (rng.random((nq, labels)) < 0.3).astype(np.uint8),
        "db_labels": (rng.random((nd, labels)) < 0.3).astype(np.uint8),
    }


def save(tmp_path, name="codes.npz", **data):
    path = tmp_path / name
    np.savez(path, **data)
    return path


def run(*args):
    return CliRunner().invoke(main, ["evaluate", *map(str, args)])


def test_json_output_equals_python_api(tmp_path):
    data = arrays()
    path = save(tmp_path, **data)
    res = run(path, "--topk", "50", "--pr-curve")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    want = metrics.evaluate(
        data["query_codes"], data["db_codes"], data["query_labels"], data["db_labels"], topk=50
    )
    lean = json.loads(run(path, "--topk", "50").output)  # the pooled curve is opt-in
    assert "pr_radius" not in lean and lean == {k: v for k, v in out.items() if k != "pr_radius"}
    assert out["file"] == str(path)
    for key in (
        "topk",
        "map",
        "map_tie_averaged",
        "topn_precision",
        "recall_at_k",
        "pr_radius",
        "precision_radius2",
        "semantics",
    ):
        assert out[key] == want[key]
    assert out["topk"] == 50 and out["num_queries"] == 15 and out["num_database"] == 200
    assert out["topn_precision"]["n"] == [1, 2, 5, 10, 20, 50, 100, 200]


def test_default_topk_is_the_papers_5000_and_all_means_whole_database(tmp_path):
    data = arrays(1)
    path = save(tmp_path, **data)
    default = json.loads(run(path).output)
    whole = json.loads(run(path, "--topk", "all").output)
    assert default["topk"] == 5000 and whole["topk"] is None
    assert (
        default["map"]
        == whole["map"]
        == metrics.mean_average_precision(
            data["query_codes"], data["db_codes"], data["query_labels"], data["db_labels"]
        )
    )


def test_zero_one_codes_and_class_indices(tmp_path):
    data = arrays(2)
    rng = np.random.default_rng(2)
    ql, dl = rng.integers(0, 4, 15), rng.integers(0, 4, 200)
    pm1 = save(tmp_path, "a.npz", **{**data, "query_labels": ql, "db_labels": dl})
    bits01 = save(
        tmp_path,
        "b.npz",
        query_codes=(data["query_codes"] > 0).astype(np.uint8),
        db_codes=(data["db_codes"] > 0),
        query_labels=ql,
        db_labels=dl,
    )
    a, b = json.loads(run(pm1, "--pr-curve").output), json.loads(run(bits01, "--pr-curve").output)
    assert a["map"] == b["map"] and a["pr_radius"] == b["pr_radius"]


def test_table_format_cutoffs_and_output_file(tmp_path):
    path = save(tmp_path, **arrays(3))
    out_file = tmp_path / "res" / "eval.json"
    res = run(path, "--format", "table", "--cutoffs", "100,10,1", "--topk", "20", "-o", out_file)
    assert res.exit_code == 0, res.output
    assert "mAP@20" in res.output and "tie-averaged mAP@20" in res.output and "P@H≤2" in res.output
    saved = json.loads(out_file.read_text())
    assert saved["topn_precision"]["n"] == [1, 10, 100]
    assert not [p for p in out_file.parent.iterdir() if p.name != "eval.json"]  # no temp files left


def test_help_states_the_semantics():
    res = CliRunner().invoke(main, ["evaluate", "--help"])
    assert res.exit_code == 0
    for phrase in ("ties by ascending database index", "tie-averaged", "pooled", "--topk", "0/1"):
        assert phrase in res.output


def _one_line_error(res, *fragments):
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"db_labels": None}, ("missing key 'db_labels'",)),
        ({"query_labels": np.ones((14, 5))}, ("query_labels: 14 rows but query_codes has 15",)),
        ({"db_codes": np.ones((200, 16))}, ("db_codes: 16 bits per code but query_codes has 32",)),
        ({"query_codes": np.full((15, 32), 0.5)}, ("query_codes: values must be ±1 or 0/1, found 0.5",)),
        ({"db_codes": np.where(np.eye(200, 32) > 0, np.nan, 1.0)}, ("db_codes: contains NaN",)),
        ({"query_labels": np.full((15, 5), np.nan)}, ("query_labels: contains NaN",)),
        ({"query_codes": np.ones((0, 32)), "query_labels": np.ones((0, 5))}, ("query_codes: empty",)),
        ({"db_labels": np.arange(200)}, ("db_labels: class indices but query_labels holds multi-hot rows",)),
        ({"db_labels": np.full((200, 5), 3)}, ("db_labels: multi-hot entries must be 0 or 1, found 3",)),
        ({"query_labels": -np.ones(15)}, ("query_labels: class indices must be non-negative",)),
    ],
)
def test_bad_input_exits_2_naming_the_key(tmp_path, change, fragments):
    data = {**arrays(4), **change}
    data = {k: v for k, v in data.items() if v is not None}
    path = save(tmp_path, **data)
    _one_line_error(run(path), str(path), *fragments)


def test_bad_files_and_options(tmp_path):
    _one_line_error(run(tmp_path / "nope.npz"), "no such file")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an archive")
    _one_line_error(run(junk), "junk.npz", "not a readable .npz")
    plain = tmp_path / "plain.npy"
    np.save(plain, np.ones(3))
    _one_line_error(run(plain), "expected an .npz archive")
    good = save(tmp_path, **arrays(5))
    _one_line_error(run(good, "--topk", "0"), "--topk")
    _one_line_error(run(good, "--topk", "many"), "--topk")
    _one_line_error(run(good, "--cutoffs", "1,x"), "--cutoffs")


def test_hamming_evaluate_gives_blas_one_thread_only_before_numpy_loads():
    """A fresh `xbench evaluate` process sets OPENBLAS_NUM_THREADS=1 before NumPy starts (unless set);
    in a process that already holds NumPy (as here) the environment is left alone."""
    import os
    import subprocess
    import sys

    from xbench.cli.evaluate import one_blas_thread

    before = os.environ.get("OPENBLAS_NUM_THREADS")
    one_blas_thread()
    assert os.environ.get("OPENBLAS_NUM_THREADS") == before
    probe = (
        "import os, sys; from xbench.cli.evaluate import one_blas_thread; "
        "assert 'numpy' not in sys.modules; one_blas_thread(); print(os.environ['OPENBLAS_NUM_THREADS'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
    env["OPENBLAS_NUM_THREADS"] = "3"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
