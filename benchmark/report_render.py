"""Render :class:`xbench.report.Table` objects as Markdown, LaTeX (booktabs), HTML or CSV.

LaTeX follows the paper's style: ``booktabs`` rules (``\\toprule``, ``\\cmidrule``,
``\\midrule``, ``\\bottomrule``), the caption above the table, the best value of a column in
``\\textbf``. ``standalone=True`` wraps the tables in a complete ``article`` document that needs
only ``booktabs`` and ``geometry`` (both in every TeX distribution); ``standalone=False`` gives
the table environments alone, for ``\\input``. CSV is tidy: one row per cell (and per failed
run), with the unrounded mean, std and number of seeds.
"""

from __future__ import annotations

import html
import io
from typing import Any

import pandas as pd

from .report import MISSING, Cell, Table

FORMATS = ("markdown", "latex", "html", "csv")
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


def cell_parts(cell: Cell | None, digits: int, show_n: bool) -> tuple[str, str, str] | None:
    """(mean, std or '', n or '') as text; None for a missing cell."""
    if cell is None:
        return None
    mean = _number(cell.mean, digits, cell.signed)
    std = _number(cell.std, digits) if cell.std is not None else ""
    n = str(cell.n) if show_n else ""
    return mean, std, n


def cell_text(cell: Cell | None, digits: int, show_n: bool, bold: tuple[str, str] = ("**", "**")) -> str:
    """Plain-text cell: ``**0.660** ± 0.012 (3)``; ``—`` when missing."""
    parts = cell_parts(cell, digits, show_n)
    if parts is None:
        return MISSING
    mean, std, n = parts
    text = (f"{bold[0]}{mean}{bold[1]}" if cell.bold else mean) + cell.mark
    if std:
        text += f" ± {std}"
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
                row = [s.replace("|", "\\|") for s in stub] + [cell_text(c, digits, t.show_n) for c in cells]
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
    "…": r"\ldots{}",
    "“": "``",
    "”": "''",
    "’": "'",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and spell the few non-ASCII symbols xbench uses as macros."""
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    return "".join(_LATEX_UNICODE.get(ch, ch) for ch in out)


def _latex_cell(cell: Cell | None, digits: int, show_n: bool) -> str:
    parts = cell_parts(cell, digits, show_n)
    if parts is None:
        return "---"
    mean, std, n = parts
    if cell.signed and mean[0] in "+-":
        mean = f"${mean[0]}${mean[1:]}"
    text = (rf"\textbf{{{mean}}}" if cell.bold else mean) + (r"\textsuperscript{\dag}" if cell.mark else "")
    if std:
        text += rf"\,$\pm$\,{std}"
    if n:
        text += f" ({n})"
    return text


def _latex_table(t: Table, digits: int) -> list[str]:
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
                    [latex_escape(s) for s in stub] + [_latex_cell(c, digits, t.show_n) for c in cells]
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
) -> str:
    body: list[str] = []
    for i, t in enumerate(tables):
        if standalone and i and i % 4 == 0:
            body.append(r"\clearpage")
        body += _latex_table(t, digits) + [""]
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
    "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:1em 0 2em}"
    "caption{caption-side:top;text-align:left;max-width:70em;margin-bottom:.5em}"
    "th,td{padding:2px 8px;text-align:center}th.stub,td.stub{text-align:left}"
    "thead{border-top:2px solid #000;border-bottom:1px solid #000}tbody{border-bottom:1px solid #000}"
    "table>tbody:last-of-type{border-bottom:2px solid #000}</style>"
)


def render_html(
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    title: str | None = None,
) -> str:
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
        out.append(f'<table id="{esc(t.key)}">')
        out.append(f"<caption><b>Table {i}.</b> {esc(t.caption)}</caption>")
        out.append("<thead>")
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
            for stub, cells in block:
                tds = "".join(f'<td class="stub">{esc(s)}</td>' for s in stub)
                tds += "".join(
                    f"<td>{cell_text(c, digits, t.show_n, bold=('<b>', '</b>')) if c else MISSING}</td>"
                    for c in cells
                )
                out.append(f"<tr>{tds}</tr>")
            out.append("</tbody>")
        out.append("</table>")
        out += [f"<p><i>Note:</i> {esc(n)}</p>" for n in t.notes]
    out += [f"<p><i>Note:</i> {esc(n)}</p>" for n in notes]
    if failed:
        out.append(f"<h2>Failed runs ({len(failed)})</h2>")
        out.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in _failed_lines(failed)) + "</ul>")
    out += ["</body>", "</html>"]
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


def render(
    fmt: str,
    tables: list[Table],
    failed: list[dict[str, Any]],
    notes: list[str],
    digits: int = 3,
    standalone: bool = True,
    title: str | None = None,
) -> str:
    """Dispatch to the renderer of ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "markdown":
        return render_markdown(tables, failed, notes, digits, title)
    if fmt == "latex":
        return render_latex(tables, failed, notes, digits, standalone, title)
    if fmt == "html":
        return render_html(tables, failed, notes, digits, title)
    if fmt == "csv":
        return render_csv(tables, failed)
    raise ValueError(f"unknown format '{fmt}'; expected one of {', '.join(FORMATS)}")
