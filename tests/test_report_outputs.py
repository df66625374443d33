"""The report outputs in their real consumers: the HTML page in headless Chromium, LaTeX through pdflatex.

Both tools are Debian packages (``chromium``; ``texlive-latex-base``, ``texlive-latex-recommended``)
that ``.ci/run`` installs where it can; without them these tests skip and say why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

try:
    from headless_chromium import Browser, chromium_binary
    from stats_fixtures import pq_results
except ImportError:  # pragma: no cover - when tests/ is a package
    from .headless_chromium import Browser, chromium_binary
    from .stats_fixtures import pq_results

needs_chromium = pytest.mark.skipif(
    chromium_binary() is None, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
)
needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (Debian: apt-get install texlive-latex-base texlive-latex-recommended)",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return pq_results(tmp_path_factory.mktemp("pq") / "res")


@pytest.fixture(scope="module")
def page(results, tmp_path_factory):
    from click.testing import CliRunner

    from xbench.cli import main

    out = tmp_path_factory.mktemp("html") / "report.html"
    res = CliRunner().invoke(
        main,
        [
            "report",
            "--results",
            str(results),
            "--out",
            str(out),
            "--ci",
            "interval",
            "--significance",
            "--resamples",
            "999",
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def test_html_page_is_self_contained(page):
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", text)  # nothing loaded from elsewhere
    assert "<link" not in text and text.count("<script>") == 1
    assert text.count('<img src="data:image/png;base64,') >= 4  # topN, recall, PR curves of the fixture
    for section in (
        "Failed runs (1)",
        "Unhealthy runs (1)",
        "image database: 2 distinct codes",
        "Run settings (11 run(s))",
        "Values marked ‡ are not significantly different",
    ):
        assert section in text


@needs_chromium
def test_html_page_in_headless_chromium(page, tmp_path):
    with Browser(tmp_path / "profile") as browser:
        browser.open(page.as_uri())
        assert browser.errors() == []
        tables = browser.evaluate("Array.from(document.querySelectorAll('table')).map(t => t.id)")
        assert tables[0].startswith("table2-") and "run-settings" in tables and "unhealthy-runs" in tables
        rows = browser.evaluate("""Array.from(document.querySelectorAll('table')[0].tBodies[0].rows)
                                   .map(r => Array.from(r.cells).map(c => c.textContent))""")
        # I→T block, method order of the paper (LSH, DCMH, CMMQ); values as in the Markdown report
        assert [r[1] for r in rows] == ["LSH", "DCMH", "CMMQ"] and [r[0] for r in rows] == ["I→T"] * 3
        assert rows[2][2].startswith("0.583 [") and rows[1][2].startswith("0.579‡ [")
        bold = browser.evaluate(
            "document.querySelectorAll('table')[0].tBodies[0].rows[2].cells[2].querySelector('b').textContent"
        )
        assert bold == "0.583"
        images = browser.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        assert images and all(done and width > 100 for done, width in images)  # the base64 PNGs decode
        # click the "16 bits" header: rows sort by value, descending, then ascending
        order = """(function(){var t=document.querySelectorAll('table')[0];
                    t.tHead.rows[t.tHead.rows.length-1].cells[2].click();
                    return Array.from(t.tBodies[0].rows).map(r => r.cells[1].textContent);})()"""
        assert browser.evaluate(order) == ["CMMQ", "DCMH", "LSH"]
        assert browser.evaluate(order) == ["LSH", "DCMH", "CMMQ"]
        assert (
            browser.evaluate(
                "document.querySelectorAll('table')[0].tHead.rows[1].cells[2].getAttribute('aria-sort')"
            )
            == "ascending"
        )
        shot = browser.screenshot(tmp_path / "report.png")
        assert browser.errors() == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@needs_chromium
def test_console_check_catches_a_broken_page(tmp_path):
    """The error check above can fail: a page with a script error is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFunction();</script>"
        "</body></html>"
    )
    with Browser(tmp_path / "profile") as browser:
        browser.open(bad.as_uri())
        errors = browser.errors()
    assert any("boom" in e for e in errors) and any("undefinedFunction" in e for e in errors)


def _pdflatex(tex: Path) -> int:
    """Compile ``tex`` in its folder; returns the page count pdflatex reports."""
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tex.parent,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    pdf = tex.with_suffix(".pdf")
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
    found = re.search(r"Output written on .*?\((\d+) pages?", proc.stdout.replace("\n", ""))
    assert found, proc.stdout[-2000:]
    return int(found.group(1))


@needs_pdflatex
def test_latex_standalone_compiles(cli, results, tmp_path):
    tex = tmp_path / "report.tex"
    res = cli(
        "report", "--results", results, "--out", tex, "--ci", "pm", "--significance", "--resamples", "999"
    )
    assert res.exit_code == 0, res.output
    assert _pdflatex(tex) == 1  # one Table 2 (one noise setting) and the failed-run list


@needs_pdflatex
def test_latex_fragment_compiles_inside_a_minimal_document(cli, results, tmp_path):
    frag = tmp_path / "tables.tex"
    res = cli(
        "report",
        "--results",
        results,
        "--out",
        frag,
        "--fragment",
        "--ci",
        "interval",
        "--significance",
        "--resamples",
        "999",
    )
    assert res.exit_code == 0, res.output
    assert r"\documentclass" not in frag.read_text()
    doc = tmp_path / "paper.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        "\\input{tables.tex}\n\\clearpage\n\\input{tables.tex}\n\\end{document}\n"
    )
    assert _pdflatex(doc) == 2  # the table twice, one page each


@needs_pdflatex
def test_broken_latex_is_detected(tmp_path):
    """The compile check can fail: an undefined macro stops pdflatex."""
    tex = tmp_path / "bad.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\n\\toprule\n\\end{document}\n")
    with pytest.raises(AssertionError):
        _pdflatex(tex)
