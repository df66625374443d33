"""`xbench compare` and `xbench report --ci/--significance` on a results folder with per-query values."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from xbench.reporting import stats

try:
    from stats_fixtures import per_query, pq_results
    from test_report_fixtures import table_results
except ImportError:  # pragma: no cover - when tests/ is a package
    from .stats_fixtures import per_query, pq_results
    from .test_report_fixtures import table_results


@pytest.fixture()
def results(tmp_path):
    return pq_results(tmp_path / "res")


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_compare_every_method_against_the_best(cli, results):
    res = cli("compare", "--results", results, "--format", "csv", "--resamples", "999")
    assert res.exit_code == 0, res.output
    rows = _csv(res.stdout)
    assert len(rows) == 8 and {r["a"] for r in rows} == {"CMMQ"} and {r["b"] for r in rows} == {"DCMH", "LSH"}
    one = next(r for r in rows if r["b"] == "DCMH" and r["bits"] == "16" and r["task"] == "i2t")
    a = [per_query("cmmq", 16, "i2t", s) for s in (0, 1)]
    b = [per_query("dcmh", 16, "i2t", s) for s in (0, 1)]
    assert float(one["mean_a"]) == pytest.approx(np.mean(a)) and float(one["diff"]) == pytest.approx(
        np.mean(a) - np.mean(b)
    )
    # the interval and p-value are those of the stats module with the documented per-cell seed
    key = ("synthetic", "100", 16, "i2t")
    ci = stats.paired_ci(a, b, 0.95, 999, stats.cell_rng(0, "ci", "symmetric:0.6", *key, "CMMQ", "DCMH"))
    assert (float(one["ci_low"]), float(one["ci_high"])) == (pytest.approx(ci.low), pytest.approx(ci.high))
    p = stats.paired_test(
        a, b, "signflip", True, 999, stats.cell_rng(0, "test", "symmetric:0.6", *key, "CMMQ", "DCMH")
    )
    assert float(one["p"]) == pytest.approx(p)
    np.testing.assert_allclose([float(r["p_holm"]) for r in rows], stats.holm([float(r["p"]) for r in rows]))
    lsh = [r for r in rows if r["b"] == "LSH"]
    assert all(r["significant"] == "True" and r["seeds"] == "0" for r in lsh)
    assert all(float(r["ci_high"]) < 0.2 for r in rows if r["b"] == "DCMH")
    # markdown: a caption and the * marker only on the significant rows
    md = cli("compare", "--results", results, "--resamples", "999").stdout
    assert (
        "Holm" in md
        and "| CMMQ | LSH |" in md
        and md.count(" * |") == sum(r["significant"] == "True" for r in rows)
    )
    assert md == cli("compare", "--results", results, "--resamples", "999").stdout  # seeded


def test_compare_two_methods_and_wilcoxon(cli, results):
    res = cli(
        "compare",
        "--results",
        results,
        "--pair",
        "dcmh,cmmq",
        "--test",
        "wilcoxon",
        "--format",
        "csv",
        "--resamples",
        "999",
    )
    rows = _csv(res.stdout)
    assert len(rows) == 4 and {(r["a"], r["b"], r["test"]) for r in rows} == {("DCMH", "CMMQ", "wilcoxon")}
    assert all(float(r["diff"]) < 0 for r in rows)
    a = [per_query("dcmh", 32, "t2i", s) for s in (0, 1)]
    b = [per_query("cmmq", 32, "t2i", s) for s in (0, 1)]
    r = next(r for r in rows if r["bits"] == "32" and r["task"] == "t2i")
    assert float(r["p"]) == pytest.approx(stats.wilcoxon_pvalue(stats.paired_units(a, b)))


def test_compare_errors(cli, results, tmp_path):
    res = cli("compare", "--results", results, "--pair", "cmmq")
    assert res.exit_code == 2 and "--pair: expected two different methods as A,B" in res.output
    res = cli("compare", "--results", results, "--pair", "cmmq,ssah")
    assert res.exit_code == 2 and "--pair: no results for 'ssah'; available:" in res.output
    old = table_results(tmp_path / "old")  # stored without per-query values
    res = cli("compare", "--results", old)
    assert (
        res.exit_code == 2
        and "nothing to compare" in res.output
        and "no stored per-query values" in res.output
    )


def test_report_intervals_and_tie_marks(cli, results):
    res = cli(
        "report",
        "--results",
        results,
        "--format",
        "csv",
        "--ci",
        "interval",
        "--significance",
        "--resamples",
        "999",
    )
    assert res.exit_code == 0, res.output
    rows = [r for r in _csv(res.stdout) if r["table"] == "table2" and r["status"] == "ok"]
    cmmq = next(r for r in rows if r["label"] == "CMMQ" and r["bits"] == "16" and r["task"] == "i2t")
    values = [per_query("cmmq", 16, "i2t", s) for s in (0, 1)]
    iv = stats.bootstrap_ci(
        values, 0.95, 999, stats.cell_rng(0, "cell", "symmetric:0.6", "synthetic", "100", 16, "i2t", "CMMQ")
    )
    assert (float(cmmq["ci_low"]), float(cmmq["ci_high"])) == (pytest.approx(iv.low), pytest.approx(iv.high))
    assert float(cmmq["ci_low"]) < float(cmmq["mean"]) < float(cmmq["ci_high"])
    dcmh = next(r for r in rows if r["label"] == "DCMH" and r["bits"] == "16" and r["task"] == "i2t")
    lsh = next(r for r in rows if r["label"] == "LSH" and r["bits"] == "16" and r["task"] == "i2t")
    assert dcmh["tied_with_best"] == "True" and lsh["tied_with_best"] == "False"
    assert cmmq["best"] == "True" and cmmq["tied_with_best"] == ""

    md = cli(
        "report", "--results", results, "--ci", "interval", "--significance", "--resamples", "999"
    ).stdout
    line = next(x for x in md.splitlines() if x.startswith("|  | DCMH |"))
    assert line.split(" | ")[2].startswith(f"{float(dcmh['mean']):.3f}‡ [{float(dcmh['ci_low']):.3f}, ")
    assert (
        "**" + f"{float(cmmq['mean']):.3f}" + "** [" in md and "Values marked ‡ are not significantly" in md
    )
    pm = cli("report", "--results", results, "--ci", "pm", "--resamples", "999").stdout
    half = (float(cmmq["ci_high"]) - float(cmmq["ci_low"])) / 2
    assert (
        f"**{float(cmmq['mean']):.3f}** ± {half:.3f} (2)" in pm
        and "‡" not in pm.split("**Table 1.**")[1][:10]
    )
    tex = cli(
        "report", "--results", results, "--format", "latex", "--significance", "--resamples", "999"
    ).stdout
    assert r"\textsuperscript{\ddag}" in tex and "‡" not in tex


def test_report_statistics_need_per_query_values(cli, tmp_path):
    old = table_results(tmp_path / "old")
    res = cli("report", "--results", old, "--ci", "pm")
    assert res.exit_code == 0 and "no stored per-query values" in res.output
    assert "±" in res.stdout  # the std over seeds is still shown


def test_damaged_array_file_is_left_out_with_a_note(cli, results):
    npz = sorted(results.rglob("*.npz"))[0]
    npz.write_bytes(b"not a zip file")
    res = cli("compare", "--results", results, "--format", "csv", "--resamples", "99")
    assert res.exit_code == 0 and "per-query values left out" in res.output
