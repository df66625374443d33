"""A method whose published form breaks the code-health thresholds says so under the report's marker."""

from __future__ import annotations

import pytest
import torch

from xbench import methods
from xbench.evaluating import health
from xbench.methods.lsh import LSH
from xbench.reporting import display

from .conftest import tiny_options

NOTE = "its published objective maps every text to one code (test only)"


class _KnownCollapse(LSH):
    name = "test-known-collapse"
    display_name, order, color, marker = "KnownCollapse", 902, "#d55e00", "v"
    description = "every text code is the same, by design (test only)"
    health_note = NOTE

    def continuous(self, modality, x):
        out = super().continuous(modality, x)
        return torch.ones_like(out) if modality == "text" else out


@pytest.fixture
def known_collapse():
    methods.registry.register(_KnownCollapse.name, _KnownCollapse, replace=True)
    yield
    methods.registry.unregister(_KnownCollapse.name)


def test_builtin_notes():
    assert display.method_health_note("ssah")  # documented: docs/health.md
    assert display.method_health_note("lsh") == "" and display.method_health_note("no-such-method") == ""


def test_report_footnote_names_the_method_and_its_note(cli, tmp_path, known_collapse):
    args = ("--bits", "16", "--results", tmp_path, "-q", *tiny_options())
    assert cli("run", "--methods", "lsh,test-known-collapse", *args).exit_code == 0
    report = cli("report", "--results", tmp_path)
    assert report.exit_code == 0, report.output
    assert health.footnote() in report.output
    assert f"{health.MARK} KnownCollapse: {NOTE}" in report.output
    assert "LSH:" not in report.output


def test_health_table_against_lsh(cli, tmp_path, known_collapse, capsys):
    from xbench.reporting import health_table

    args = ("--bits", "16", "--results", tmp_path, "-q", *tiny_options())
    assert cli("run", "--methods", "lsh,test-known-collapse", *args).exit_code == 0
    rows = {r["method"]: r for r in health_table.rows(tmp_path)}
    lsh, bad = rows["lsh"], rows["test-known-collapse"]
    assert lsh["margin"] == 0.0 and lsh["meets"]
    assert bad["distinct_text"] == pytest.approx(1 / 260) and not bad["meets"]  # TINY: 260 database items
    assert bad["margin"] == pytest.approx(min(bad["i2t"] - lsh["i2t"], bad["t2i"] - lsh["t2i"]))
    assert health_table.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| test-known-collapse |" in out and "**no**" in out
    assert health_table.main([str(tmp_path / "missing")]) == 2
