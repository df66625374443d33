"""The main job regenerates Table 2's setting (issue 13 item 3): without ``--noise``, ``xbench run`` trains
under ``symmetric:0.6``; without options, ``xbench report`` renders Table 2's layout from ./results;
``--help`` says both."""

from __future__ import annotations

import json

from click.testing import CliRunner

from xbench.cli import main

from .conftest import TINY
from .test_report_fixtures import table_results


def _tiny() -> list[str]:
    return [arg for key, value in TINY.items() for arg in ("--dataset-option", f"{key}={value}")]


def test_run_without_noise_trains_under_symmetric_0_6(tmp_path):
    res = CliRunner().invoke(
        main, ["run", "--methods", "lsh", "--bits", "8", "--results", str(tmp_path), "-q", *_tiny()]
    )
    assert res.exit_code == 0, res.output
    (path,) = (tmp_path / "runs" / "synthetic" / "lsh").glob("*.json")
    record = json.loads(path.read_text())
    assert record["config"]["noise"] == "symmetric:0.6"
    noise = record["noise"]
    assert noise["rate"] == 0.6 and noise["model"] == "symmetric"
    assert noise["shared"]["corrupted_fraction"] > 0.3  # the labels were corrupted, not just named


def test_report_without_options_is_table_2(tmp_path, monkeypatch):
    table_results(tmp_path / "results")
    monkeypatch.chdir(tmp_path)  # the default --results is ./results
    res = CliRunner().invoke(main, ["report"])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if line.startswith("|")]
    # one header row: Task, Method, then Dataset × bits columns
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:2] == ["Task", "Method"] and len(header) == 4
    assert "16" in header[2] and "32" in header[3] and "synthetic" in res.stdout
    tasks = [line.split("|")[1].strip() for line in lines[2:]]
    assert [t for t in tasks if t] == ["I→T", "T→I"]  # the two blocks, each with the methods
    methods_rows = [line.split("|")[2].strip() for line in lines[2:]]
    assert methods_rows.count("LSH") == 2 and methods_rows.count("CMMQ") == 2
    assert "symmetric" in res.stdout and "0.6" in res.stdout  # the caption names the noise setting


def test_help_says_so():
    runner = CliRunner()
    run_help = " ".join(runner.invoke(main, ["run", "--help"]).output.split())
    assert "symmetric:0.6" in run_help and "Table 2" in run_help
    report_help = " ".join(runner.invoke(main, ["report", "--help"]).output.split())
    assert "Table 2" in report_help and "I→T" in report_help and "T→I" in report_help
