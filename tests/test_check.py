"""`xbench baseline` / `xbench check`: the regression gate."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from xbench.cli import main
from xbench.errors import XbenchError
from xbench.reporting.check import compare, make_baseline, read_baseline
from xbench.reporting.results import load_runs

try:
    from test_report_fixtures import make_run
except ImportError:  # pragma: no cover
    from .test_report_fixtures import make_run


def _results(path, cmmq=(0.70, 0.72), lsh=(0.30, 0.31), with_lsh=True, extra_seed=False):
    make_run(path, "cmmq", "synthetic", 16, cmmq[0], 0.60, seed=0)
    make_run(path, "cmmq", "synthetic", 16, cmmq[1], 0.62, seed=1)
    if extra_seed:
        make_run(path, "cmmq", "synthetic", 16, 0.0, 0.0, seed=2)
    if with_lsh:
        make_run(path, "lsh", "synthetic", 16, lsh[0], 0.2, seed=0, noise="symmetric:0.6")
        make_run(path, "lsh", "synthetic", 16, lsh[1], 0.2, seed=1, noise="symmetric:0.6")
    return path


@pytest.fixture()
def baseline_file(tmp_path):
    base = _results(tmp_path / "base")
    out = tmp_path / "ci-baseline.json"
    res = CliRunner().invoke(main, ["baseline", "--results", str(base), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _check(results, baseline, *extra):
    return CliRunner().invoke(main, ["check", "--results", str(results), "--baseline", str(baseline), *extra])


def test_baseline_file_format(baseline_file):
    doc = json.loads(baseline_file.read_text())
    assert doc["format"] == "xbench-baseline" and doc["version"] == 1 and doc["metric"] == "map"
    cell = next(c for c in doc["cells"] if c["method"] == "cmmq" and c["task"] == "i2t")
    assert cell == {
        "method": "cmmq",
        "hparams": {},
        "dataset": "synthetic",
        "bits": 16,
        "noise": "none",
        "task": "i2t",
        "R": "5000",
        "value": pytest.approx(0.71),
        "std": pytest.approx(0.0141421356),
        "n_seeds": 2,
        "seeds": [0, 1],
    }
    assert len(doc["cells"]) == 4
    # regenerating from the same results gives the same bytes (no time stamp)
    again = baseline_file.with_name("again.json")
    CliRunner().invoke(
        main, ["baseline", "--results", str(baseline_file.parent / "base"), "--out", str(again)]
    )
    assert again.read_bytes() == baseline_file.read_bytes()


def test_identical_results_pass(tmp_path, baseline_file):
    res = _check(tmp_path / "base", baseline_file)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("PASSED: 4 baseline cell(s): 4 ok, 0 regression(s)")


def test_drop_beyond_tolerance_fails(tmp_path, baseline_file):
    now = _results(tmp_path / "now", cmmq=(0.68, 0.70))  # mean 0.69: 0.02 below 0.71
    res = _check(now, baseline_file)
    assert res.exit_code == 1
    line = next(ln for ln in res.output.splitlines() if ln.startswith("REGRESSION"))
    assert line.split()[:10] == [
        "REGRESSION",
        "cmmq",
        "synthetic",
        "16",
        "none",
        "i2t",
        "0.7100",
        "0.6900",
        "-0.0200",
        "mean",
    ]
    assert "FAILED: 4 baseline cell(s): 3 ok, 1 regression(s)" in res.output


def test_drop_within_tolerance_passes_and_tolerance_option(tmp_path, baseline_file):
    now = _results(tmp_path / "now", cmmq=(0.70, 0.70))  # mean 0.70: 0.01 below, not beyond 0.01
    assert _check(now, baseline_file).exit_code == 0
    assert _check(now, baseline_file, "--tolerance", "0.005").exit_code == 1


def test_improvement_is_reported_and_passes(tmp_path, baseline_file):
    now = _results(tmp_path / "now", lsh=(0.40, 0.41))
    res = _check(now, baseline_file)
    assert res.exit_code == 0
    assert any(ln.startswith("IMPROVEMENT  lsh") and "+0.1000" in ln for ln in res.output.splitlines())
    assert "1 improvement(s)" in res.output


def test_missing_cell_fails(tmp_path, baseline_file):
    now = _results(tmp_path / "now", with_lsh=False)
    res = _check(now, baseline_file)
    assert res.exit_code == 1
    missing = [ln for ln in res.output.splitlines() if ln.startswith("MISSING")]
    assert len(missing) == 2 and all("lsh" in ln and "no successful run" in ln for ln in missing)


def test_failed_run_and_missing_seed_count_as_missing(tmp_path, baseline_file):
    now = tmp_path / "now"
    _results(now, with_lsh=False)
    make_run(now, "lsh", "synthetic", 16, 0.30, 0.2, seed=0, noise="symmetric:0.6")
    make_run(now, "lsh", "synthetic", 16, 0, 0, seed=1, noise="symmetric:0.6", status="failed", error="OOM")
    report = compare(load_runs(now), read_baseline(baseline_file), 0.01)
    lsh = [o for o in report.outcomes if o.key.method == "lsh"]
    assert [o.status for o in lsh] == ["missing", "missing"]
    assert "seed 1 failed: OOM" in lsh[0].detail
    assert not report.passed


def test_extra_seeds_in_results_are_ignored(tmp_path, baseline_file):
    now = _results(tmp_path / "now", extra_seed=True)
    report = compare(load_runs(now), read_baseline(baseline_file), 0.01)
    assert report.passed and report.new_cells == 0


def test_changed_R_fails(tmp_path, baseline_file):
    now = tmp_path / "now"
    make_run(now, "cmmq", "synthetic", 16, 0.70, 0.60, seed=0, topk=None)
    make_run(now, "cmmq", "synthetic", 16, 0.72, 0.62, seed=1, topk=None)
    report = compare(load_runs(now), read_baseline(baseline_file), 0.01)
    assert {o.status for o in report.outcomes if o.key.method == "cmmq"} == {"changed"}


def test_bad_input_exit_2(tmp_path, baseline_file):
    assert _check(tmp_path / "missing", baseline_file).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = _check(tmp_path / "base", bad)
    assert res.exit_code == 2 and "not valid JSON" in res.output
    bad.write_text(json.dumps({"format": "something"}))
    assert "not an xbench baseline" in _check(tmp_path / "base", bad).output
    res = _check(tmp_path / "base", tmp_path / "nope.json")
    assert res.exit_code == 2 and "no such file" in res.output
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(
        main, ["baseline", "--results", str(tmp_path / "empty"), "--out", str(tmp_path / "b")]
    )
    assert res.exit_code == 2 and not (tmp_path / "b").exists()


def test_baseline_needs_a_successful_run(tmp_path):
    make_run(tmp_path, "lsh", "synthetic", 16, 0, 0, status="failed", error="x")
    with pytest.raises(XbenchError, match="no successful run"):
        make_baseline(load_runs(tmp_path))
