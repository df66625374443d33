"""Render :class:`xbench.reporting.tables.Table` objects as Markdown, LaTeX (booktabs), HTML or CSV.

LaTeX follows the paper's style: ``booktabs`` rules (``\\toprule``, ``\\cmidrule``,
``\\midrule``, ``\\bottomrule``), the caption above the table, the best value of a column in
``\\textbf``. ``standalone=True`` wraps the tables in a complete ``article`` document that needs
only ``booktabs`` and ``geometry`` (both in every TeX distribution); ``standalone=False`` gives
the table environments alone, for ``\\input``. CSV is tidy: one row per cell (and per failed
run), with the unrounded mean, std and number of seeds.

Statistics (``xbench.reporting.significance``): a cell may carry ``ci = (low, high)``, a confidence interval,
shown instead of the std as ``± half-width`` (``ci_style='pm'``) or ``[low, high]``
(``ci_style='interval'``); and ``tied = True`` — not significantly different from the best value
of its column — shown by :data:`TIED_MARK` (``\\textsuperscript{\\ddag}`` in LaTeX) after the mean. A
cell's ``mark`` (e.g. the code-health marker †) is shown after the mean too.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from xbench.reporting.tables import MISSING, Cell, Table

FORMATS = ("markdown", "latex", "html", "csv")
CI_STYLES = ("pm", "interval")
#: Marker of a value not significantly different from the bold best of its column.
TIED_MARK = "‡"
SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".tex": "latex",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
}


def format_from_suffix(path: str | None) -> str | None:
    """The output format implied by a file name (``.tex`` → latex …), or None."""
    if not path:
        return None
    for suffix, fmt in SUFFIXES.items():
        if str(path).lower().endswith(suffix):
            return fmt
    return None


def _number(x: float, digits: int, signed: bool = False) -> str:
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def cell_parts(
    cell: Cell | None, digits: int, show_n: bool, ci_style: str | None = None
) -> tuple[str, str, str] | None:
    """(mean, spread or '', n or '') as text; None for a missing cell. The spread is the std, or,
    when ``ci_style`` is given and the cell has a ``ci``, the interval (``±half`` or ``[lo, hi]``)."""
    if cell is None:
        return None
    mean = _number(cell.mean, digits, cell.signed)
    ci = getattr(cell, "ci", None)
    if ci_style is not None and ci is not None:
        low, high = ci
        spread = (
            f"± {_number((high - low) / 2, digits)}"
            if ci_style == "pm"
            else f"[{_number(low, digits)}, {_number(high, digits)}]"
        )
    else:
        spread = f"± {_number(cell.std, digits)}" if cell.std is not None else ""
    n = str(cell.n) if show_n else ""
    return mean, spread, n


def cell_text(
    cell: Cell | None,
    digits: int,
    show_n: bool,
    bold: tuple[str, str] = ("**", "**"),
    ci_style: str | None = None,
) -> str:
    """Plain-text cell: ``**0.660** ± 0.012 (3)``, ``0.651‡ [0.640, 0.662]``; ``—`` when missing."""
    parts = cell_parts(cell, digits, show_n, ci_style)
    if parts is None:
        return MISSING
    mean, spread, n = parts
    text = (f"{bold[0]}{mean}{bold[1]}" if cell.bold else mean) + getattr(cell, "mark", "")
    if getattr(cell, "tied", False) and not cell.bold:
        text += TIED_MARK
    if spread:
        text += f" {spread}"
    if n:
        text += f" ({n})"
    return text


def _leaf_titles(table: Table) -> list[str]:
    """Flattened column titles (upper header texts joined with the leaf) for single-row headers."""
    titles = []
    for j, leaf in enumerate(table.leaves):
        parts = []
        for level in table.header:
            pos = 0
            for text, span in level:
                if pos <= j < pos + span:
                    parts.append(text)
                    break
                pos += span
        titles.append(" ".join(parts + [leaf]))
    return titles


def _failed_lines(failed: list[dict[str, Any]]) -> list[str]:
    lines = []
    for f in failed:
        err = " ".join(str(f["error"]).split())
        if len(err) > 200:
            err = err[:197] + "..."
        lines.append(
            f"{f['label']}, {f['dataset']}, {f['bits']} bits, noise {f['noise']}, seed {f['seed']}: {err}"
        )
    return lines


# ---------------------------------------------------------------------------------------------- Markdown


def render_markdown(
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    title: str | None = None,
    ci_style: str | None = None,
) -> str:
    out: list[str] = []
    if title:
        out += [f"# {title}", ""]
    for i, t in enumerate(tables, 1):
        out += [f"**Table {i}.** {t.caption}", ""]
        head = t.stub + _leaf_titles(t)
        out.append("| " + " | ".join(h.replace("|", "\\|") for h in head) + " |")
        out.append("|" + "|".join([":--"] * len(t.stub) + [":-:"] * len(t.leaves)) + "|")
        for block in t.blocks:
            for stub, cells in block:
                row = [s.replace("|", "\\|") for s in stub] + [
                    cell_text(c, digits, t.show_n, ci_style=ci_style) for c in cells
                ]
                out.append("| " + " | ".join(row) + " |")
        out.append("")
        for n in t.notes:
            out += [f"*Note:* {n}", ""]
    for n in notes:
        out += [f"*Note:* {n}", ""]
    if failed:
        out += [f"**Failed runs ({len(failed)}):**", ""]
        out += [f"- {line}" for line in _failed_lines(failed)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------- LaTeX

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {
    "—": "---",
    "–": "--",
    "±": r"$\pm$",
    "ρ": r"$\rho$",
    "λ": r"$\lambda$",
    "→": r"$\to$",
    "−": r"$-$",
    "·": r"$\cdot$",
    "Δ": r"$\Delta$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "×": r"$\times$",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "’": "'",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and spell the few non-ASCII symbols xbench uses as macros."""
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    return "".join(_LATEX_UNICODE.get(ch, ch) for ch in out)


def _latex_cell(cell: Cell | None, digits: int, show_n: bool, ci_style: str | None = None) -> str:
    parts = cell_parts(cell, digits, show_n, ci_style)
    if parts is None:
        return "---"
    mean, spread, n = parts
    if cell.signed and mean[0] in "+-":
        mean = f"${mean[0]}${mean[1:]}"
    text = rf"\textbf{{{mean}}}" if cell.bold else mean
    if getattr(cell, "mark", ""):
        text += latex_escape(cell.mark)
    if getattr(cell, "tied", False) and not cell.bold:
        text += r"\textsuperscript{\ddag}"
    if spread.startswith("±"):
        text += rf"\,$\pm$\,{spread.lstrip('± ')}"
    elif spread:
        text += rf"\,{spread}"
    if n:
        text += f" ({n})"
    return text


def _latex_table(t: Table, digits: int, ci_style: str | None = None) -> list[str]:
    size = (
        r"\tiny"
        if len(t.leaves) > 30
        else r"\scriptsize"
        if len(t.leaves) > 20
        else r"\footnotesize"
        if len(t.leaves) > 12
        else r"\small"
    )
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{latex_escape(t.caption)}}}",
        rf"\label{{tab:{t.key}}}",
        size,
        r"\setlength{\tabcolsep}{4pt}",
        r"\begin{tabular}{" + "l" * len(t.stub) + "c" * len(t.leaves) + "}",
        r"\toprule",
    ]
    for level in t.header:
        cells, rules, pos = [""] * len(t.stub), [], len(t.stub) + 1
        for text, span in level:
            cells.append(
                rf"\multicolumn{{{span}}}{{c}}{{{latex_escape(text)}}}" if span > 1 else latex_escape(text)
            )
            rules.append(rf"\cmidrule(lr){{{pos}-{pos + span - 1}}}")
            pos += span
        lines.append(" & ".join(cells) + r" \\")
        lines.append(" ".join(rules))
    lines.append(" & ".join(latex_escape(s) for s in t.stub + t.leaves) + r" \\")
    lines.append(r"\midrule")
    for b, block in enumerate(t.blocks):
        if b:
            lines.append(r"\midrule")
        for stub, cells in block:
            lines.append(
                " & ".join(
                    [latex_escape(s) for s in stub]
                    + [_latex_cell(c, digits, t.show_n, ci_style) for c in cells]
                )
                + r" \\"
            )
    lines += [r"\bottomrule", r"\end{tabular}"]
    for n in t.notes:
        lines.append(rf"\par\smallskip\footnotesize\emph{{Note:}} {latex_escape(n)}")
    lines.append(r"\end{table}")
    return lines


def render_latex(
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    standalone: bool = True,
    title: str | None = None,
    ci_style: str | None = None,
) -> str:
    body: list[str] = []
    for i, t in enumerate(tables):
        if standalone and i and i % 4 == 0:
            body.append(r"\clearpage")
        body += _latex_table(t, digits, ci_style) + [""]
    extra = [latex_escape(n) for n in notes]
    failed_lines = [latex_escape(line) for line in _failed_lines(failed)]
    if not standalone:
        body += [f"% Note: {n}" for n in extra]
        if failed_lines:
            body.append(f"% Failed runs ({len(failed_lines)}):")
            body += [f"%   {line}" for line in failed_lines]
        return "\n".join(body).rstrip() + "\n"
    doc = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{booktabs}",
        r"\usepackage[a4paper,landscape,margin=1.5cm]{geometry}",
        r"\begin{document}",
    ]
    if title:
        doc += [rf"\section*{{{latex_escape(title)}}}"]
    doc += body
    for n in extra:
        doc.append(rf"\noindent\emph{{Note:}} {n}\par")
    if failed_lines:
        doc += [rf"\paragraph{{Failed runs ({len(failed_lines)})}}", r"\begin{itemize}"]
        doc += [rf"\item {line}" for line in failed_lines]
        doc.append(r"\end{itemize}")
    doc.append(r"\end{document}")
    return "\n".join(doc) + "\n"


# ---------------------------------------------------------------------------------------------- HTML

_HTML_STYLE = (
    "<style>body{font-family:sans-serif;margin:1.5em;max-width:90em}"
    "table{border-collapse:collapse;margin:1em 0 2em}"
    "caption{caption-side:top;text-align:left;max-width:70em;margin-bottom:.5em}"
    "th,td{padding:2px 8px;text-align:center}th.stub,td.stub{text-align:left}td.repeat{color:#999}"
    "thead{border-top:2px solid #000;border-bottom:1px solid #000}tbody{border-bottom:1px solid #000}"
    "table>tbody:last-of-type{border-bottom:2px solid #000}"
    "table.sortable thead tr:last-child th{cursor:pointer}"
    "th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}"
    "figure{display:inline-block;margin:1em;vertical-align:top;max-width:46em}"
    "figure img{max-width:100%}figcaption{font-size:90%}</style>"
)

#: Sorts a table's rows (inside each row block) by the clicked leaf column; numbers by the cell's
#: ``data-value`` (the unrounded mean), text otherwise; empty cells last; a second click reverses.
_SORT_SCRIPT = """<script>
(function () {
  "use strict";
  function key(td) {
    var v = td.getAttribute("data-value");
    if (v !== null) { return v === "" ? null : parseFloat(v); }
    var t = td.textContent.trim();
    var f = parseFloat(t);
    if (t === "" || t === "\u2014") { return null; }
    return isNaN(f) || String(f) !== t.split(" ")[0] ? t.toLowerCase() : f;
  }
  function sortBy(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
    var heads = table.querySelectorAll("thead th");
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var bodies = table.tBodies;
    for (var b = 0; b < bodies.length; b++) {
      var rows = Array.prototype.slice.call(bodies[b].rows);
      rows.sort(function (r1, r2) {
        var a = key(r1.cells[col]), c = key(r2.cells[col]);
        if (a === null || c === null) { return a === c ? 0 : (a === null ? 1 : -1); }
        if (typeof a !== typeof c) { a = String(a); c = String(c); }
        return a < c ? -sign : (a > c ? sign : 0);
      });
      for (var r = 0; r < rows.length; r++) { bodies[b].appendChild(rows[r]); }
    }
  }
  var tables = document.querySelectorAll("table.sortable");
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var row = table.tHead.rows[table.tHead.rows.length - 1];
      for (var c = 0; c < row.cells.length; c++) {
        (function (th, col) {
          th.title = "Click to sort";
          th.addEventListener("click", function () { sortBy(table, col, th); });
        })(row.cells[c], c);
      }
    })(tables[t]);
  }
})();
</script>"""


@dataclass
class Figure:
    """A figure embedded in the HTML page: PNG bytes and a caption."""

    caption: str
    png: bytes
    name: str = ""


def _html_table(t: Table, number: int, digits: int, ci_style: str | None) -> list[str]:
    esc = html.escape
    out = [
        f'<table id="{esc(t.key)}" class="sortable">',
        f"<caption><b>Table {number}.</b> {esc(t.caption)}</caption>",
        "<thead>",
    ]
    for level in t.header:
        out.append(
            "<tr>"
            + "".join('<th class="stub"></th>' for _ in t.stub)
            + "".join(f'<th colspan="{span}">{esc(text)}</th>' for text, span in level)
            + "</tr>"
        )
    out.append(
        "<tr>"
        + "".join(f'<th class="stub">{esc(s)}</th>' for s in t.stub)
        + "".join(f"<th>{esc(leaf)}</th>" for leaf in t.leaves)
        + "</tr>"
    )
    out.append("</thead>")
    for block in t.blocks:
        out.append("<tbody>")
        previous = [""] * len(t.stub)
        for stub, cells in block:
            tds = ""
            for k, s in enumerate(stub):  # a blank stub repeats the one above (rows can be sorted)
                if s:
                    previous[k] = s
                    tds += f'<td class="stub">{esc(s)}</td>'
                else:
                    tds += f'<td class="stub repeat">{esc(previous[k])}</td>'
            for c in cells:
                if c is None:
                    tds += f'<td data-value="">{MISSING}</td>'
                else:
                    text = cell_text(c, digits, t.show_n, bold=("<b>", "</b>"), ci_style=ci_style)
                    tds += f'<td data-value="{c.mean!r}">{text}</td>'
            out.append(f"<tr>{tds}</tr>")
        out.append("</tbody>")
    out.append("</table>")
    out += [f"<p><i>Note:</i> {esc(n)}</p>" for n in t.notes]
    return out


def _html_records(key: str, caption: str, rows: list[dict[str, Any]]) -> list[str]:
    """A sortable table of plain records (run settings, unhealthy runs)."""
    esc = html.escape
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = [f'<table id="{esc(key)}" class="sortable">', f"<caption>{esc(caption)}</caption>", "<thead><tr>"]
    out.append("".join(f'<th class="stub">{esc(str(c))}</th>' for c in columns) + "</tr></thead><tbody>")
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="stub">{esc("" if r.get(c) is None else str(r.get(c)))}</td>' for c in columns
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return out


def render_html(
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    title: str | None = None,
    ci_style: str | None = None,
    figures: list[Figure] | None = None,
    settings: list[dict[str, Any]] | None = None,
    unhealthy: list[dict[str, Any]] | None = None,
) -> str:
    """One self-contained page: the tables (sortable columns, inline script), the figures (PNG
    embedded as base64), the captions and notes, the run settings, and the failed and unhealthy
    runs. It loads nothing from elsewhere."""
    esc = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title or 'xbench report')}</title>",
        _HTML_STYLE,
        "</head>",
        "<body>",
    ]
    if title:
        out.append(f"<h1>{esc(title)}</h1>")
    for i, t in enumerate(tables, 1):
        out += _html_table(t, i, digits, ci_style)
    out += [f"<p><i>Note:</i> {esc(n)}</p>" for n in notes]
    if figures:
        out.append(f"<h2>Figures ({len(figures)})</h2>")
        for k, f in enumerate(figures, 1):
            data = base64.b64encode(f.png).decode("ascii")
            out.append(
                f'<figure id="figure-{k}"><img src="data:image/png;base64,{data}" alt="{esc(f.caption)}">'
                f"<figcaption><b>Figure {k}.</b> {esc(f.caption)}</figcaption></figure>"
            )
    if failed:
        out.append(f"<h2>Failed runs ({len(failed)})</h2>")
        out.append(
            '<ul id="failed-runs">'
            + "".join(f"<li>{esc(line)}</li>" for line in _failed_lines(failed))
            + "</ul>"
        )
    if unhealthy:
        out.append(f"<h2>Unhealthy runs ({len(unhealthy)})</h2>")
        out += _html_records("unhealthy-runs", "Runs whose stored health check reports a problem.", unhealthy)
    if settings:
        out.append(f"<h2>Run settings ({len(settings)} run(s))</h2>")
        out += _html_records("run-settings", "The settings of every run in this report.", settings)
    out += [_SORT_SCRIPT, "</body>", "</html>"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- CSV

CSV_COLUMNS = [
    "table",
    "setting",
    "task",
    "method",
    "label",
    "hparams",
    "dataset",
    "bits",
    "R",
    "metric",
    "mean",
    "std",
    "n_seeds",
    "seeds",
    "best",
    "status",
    "noise_rate",
    "paper",
    "paper_R",
    "diff",
    "source",
    "paper_method",
    "seed",
    "error",
    "path",
    "ci_low",
    "ci_high",
    "p_vs_best",
    "p_holm_vs_best",
    "tied_with_best",
]


def render_csv(tables: list[Table], failed: list[dict[str, Any]]) -> str:
    rows = [r for t in tables for r in t.records]
    rows += [
        {
            "table": "failed",
            "setting": f["noise"],
            "method": f["method"],
            "label": f["label"],
            "dataset": f["dataset"],
            "bits": f["bits"],
            "seed": f["seed"],
            "status": "failed",
            "error": f["error"],
            "path": f["path"],
        }
        for f in failed
    ]
    frame = pd.DataFrame(rows, columns=CSV_COLUMNS)
    for col in ("bits", "n_seeds", "seed"):
        frame[col] = pd.array([None if pd.isna(v) else int(v) for v in frame[col]], dtype="Int64")
    frame = frame.dropna(axis=1, how="all")
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- compare

TEST_TITLES = {"signflip": "sign-flip permutation", "wilcoxon": "Wilcoxon signed-rank"}
COMPARE_COLUMNS = [
    "setting",
    "dataset",
    "R",
    "bits",
    "task",
    "a",
    "b",
    "mean_a",
    "mean_b",
    "diff",
    "ci_low",
    "ci_high",
    "level",
    "p",
    "p_holm",
    "significant",
    "test",
    "seeds",
    "n_queries",
    "note",
]


def comparison_records(
    comparisons: list[Any], level: float = 0.95, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """One tidy dict per :class:`xbench.reporting.stats.Comparison` (unrounded)."""
    rows = []
    for c in comparisons:
        dataset, r, bits, task = c.key
        rows.append(
            {
                "setting": c.table,
                "dataset": dataset,
                "R": r,
                "bits": bits,
                "task": task,
                "a": c.a,
                "b": c.b,
                "mean_a": c.mean_a,
                "mean_b": c.mean_b,
                "diff": c.diff,
                "ci_low": c.low,
                "ci_high": c.high,
                "level": level,
                "p": c.p,
                "p_holm": c.p_holm,
                "significant": bool(c.significant(alpha)),
                "test": c.test,
                "seeds": " ".join(map(str, c.seeds)),
                "n_queries": c.n_queries,
                "note": c.note,
            }
        )
    return rows


def _p_text(p: float) -> str:
    if p != p:  # NaN
        return MISSING
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def render_comparisons(
    comparisons: list[Any],
    fmt: str = "markdown",
    digits: int = 3,
    level: float = 0.95,
    alpha: float = 0.05,
    metric: str = "map",
) -> str:
    """``xbench compare`` output: a Markdown table per noise setting (with a caption) or tidy CSV."""
    rows = comparison_records(comparisons, level, alpha)
    if fmt == "csv":
        buf = io.StringIO()
        pd.DataFrame(rows, columns=COMPARE_COLUMNS).to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()
    if fmt != "markdown":
        raise ValueError(f"unknown format '{fmt}' for comparisons; expected markdown or csv")
    from xbench.reporting.display import TASK_LABELS, dataset_display
    from xbench.reporting.results import METRIC_NAMES

    pct = f"{100 * level:g} %"
    out: list[str] = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == setting]
        test = mine[0]["test"]
        out += [
            f"**Paired comparisons, {setting}.** Δ = {METRIC_NAMES.get(metric, metric)} of A − that of B "
            f"over the same queries and seeds; {pct} CI: percentile bootstrap of the paired per-query "
            f"differences (seeds, then queries within seeds); p: two-sided paired {TEST_TITLES[test]} "
            f"test over queries; p (Holm): adjusted over the {len(mine)} comparison(s) of this setting; "
            f"* = significant at α = {alpha:g} after adjustment.",
            "",
        ]
        out.append("| Dataset | R | Bits | Task | A | B | A | B | Δ | " + pct + " CI | p | p (Holm) |  |")
        out.append("|:--|:-:|:-:|:-:|:--|:--|--:|--:|--:|:-:|--:|--:|:-:|")
        for r in mine:
            ci = (
                MISSING
                if r["ci_low"] != r["ci_low"]
                else f"[{_number(r['ci_low'], digits, True)}, {_number(r['ci_high'], digits, True)}]"
            )
            out.append(
                "| "
                + " | ".join(
                    [
                        dataset_display(str(r["dataset"])),
                        str(r["R"]),
                        str(r["bits"]),
                        TASK_LABELS.get(r["task"], str(r["task"])),
                        r["a"].replace("|", "\\|"),
                        r["b"].replace("|", "\\|"),
                        _number(r["mean_a"], digits),
                        _number(r["mean_b"], digits),
                        _number(r["diff"], digits, True),
                        ci,
                        _p_text(r["p"]),
                        _p_text(r["p_holm"]),
                        "*" if r["significant"] else "",
                    ]
                )
                + " |"
            )
        out.append("")
        out += [
            f"*Note:* {r['a']} vs {r['b']} ({r['dataset']}, {r['bits']} bits, {r['task']}): {r['note']}"
            for r in mine
            if r["note"]
        ]
        if any(r["note"] for r in mine):
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def render(
    fmt: str,
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    standalone: bool = True,
    title: str | None = None,
    ci_style: str | None = None,
    **page: Any,
) -> str:
    """Dispatch to the renderer of ``fmt`` (one of :data:`FORMATS`). ``ci_style``: show the cells'
    intervals (:data:`CI_STYLES`); ``page``: the HTML page's ``figures``, ``settings``, ``unhealthy``."""
    if ci_style is not None and ci_style not in CI_STYLES:
        raise ValueError(f"unknown ci_style '{ci_style}'; expected one of {', '.join(CI_STYLES)}")
    if fmt == "markdown":
        return render_markdown(tables, failed, notes, digits, title, ci_style)
    if fmt == "latex":
        return render_latex(tables, failed, notes, digits, standalone, title, ci_style)
    if fmt == "html":
        return render_html(tables, failed, notes, digits, title, ci_style, **page)
    if fmt == "csv":
        return render_csv(tables, failed)
    raise ValueError(f"unknown format '{fmt}'; expected one of {', '.join(FORMATS)}")
