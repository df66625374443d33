"""The README stays a short entry point and the documentation cites only what users can reach.

`mkdocs build --strict` (run by .ci/run, not here: it needs mkdocs) checks the site's links and anchors;
these tests check what needs no extra package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 300
# Reference notes that only existed next to the repository, never shipped to users.
PRIVATE = re.compile(r"\.\./shared\b|\bshared/(reference|papers|data)\b")
NOTE_NAMES = re.compile(r"\b(methods|evaluation|noise|datasets|suites|uotrcl)\.md §")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def test_readme_is_short() -> None:
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, (
        f"README.md has {n} lines; keep it at most {MAX_README_LINES} (move detail to docs/)"
    )


def test_readme_keeps_the_commands_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    # .ci/run runs the README's test command; the main job is the first thing a user runs.
    assert "pip install -e '.[test,dask]' && pytest" in text
    assert "xbench run --methods all --bits 32,64,128" in text
    assert "xbench report" in text
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test,dask]' && pytest" in ci


@pytest.mark.parametrize("path", [README, *_doc_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_references(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    bad = [ln for ln in text.splitlines() if PRIVATE.search(ln) or NOTE_NAMES.search(ln)]
    assert not bad, f"{path.relative_to(ROOT)} cites files users do not have: {bad[:3]}"


def test_readme_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    missing = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (ROOT / target.split("#", 1)[0]).exists():
            missing.append(target)
    assert not missing, f"README.md links to missing files: {missing}"


def test_nav_pages_exist() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = re.findall(r":\s*([\w./-]+\.md)\s*$", nav, flags=re.MULTILINE)
    assert pages, "mkdocs.yml has no nav pages"
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml nav names missing pages: {missing}"
