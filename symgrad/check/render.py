"""Tables of formatted cells as plain text, HTML and LaTeX.

Reports build one :class:`Table` (title, headers, rows of strings, footer)
and render it three ways: ``__str__`` in a terminal, ``_repr_html_`` and
``_repr_latex_`` in notebooks. Numbers are formatted here, in one place, so
every view shows the same digits.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

__all__ = ["Table", "number", "error", "text", "to_html", "to_latex"]

#: Status -> colour in HTML.
_COLOURS = {"FAIL": "#c62828", "kink": "#ef6c00", "unresolved": "#6d4c41", "ok": "#2e7d32"}


def number(x: float, digits: int = 8) -> str:
    """A value in scientific notation, or an em dash for "not computed"."""
    return "—" if x is None or math.isnan(x) else f"{x:.{digits}e}"


def error(x: float) -> str:
    """An error or a step: two significant digits are what matters."""
    return number(x, 1)


@dataclass(frozen=True)
class Table:
    """Formatted cells; ``align`` holds ``l`` or ``r`` per column; ``status`` the
    column whose value colours a row in HTML (or -1)."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    align: str
    footer: list[str] = field(default_factory=list)
    status: int = -1
    latex_names: dict[str, str] = field(default_factory=dict)


def _pad(cell: str, width: int, align: str) -> str:
    return cell.ljust(width) if align == "l" else cell.rjust(width)


def text(table: Table) -> str:
    widths = [max(len(c) for c in column) for column in zip(table.headers, *table.rows, strict=True)]
    lines = [table.title]
    for row in (table.headers, *table.rows):
        cells = (_pad(c, w, a) for c, w, a in zip(row, widths, table.align, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines + table.footer)


def to_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = []
    for row in table.rows:
        colour = _COLOURS.get(row[table.status], "") if table.status >= 0 else ""
        cells = []
        for k, (cell, align) in enumerate(zip(row, table.align, strict=True)):
            style = f"text-align:{'left' if align == 'l' else 'right'}"
            if k == table.status and colour:
                style += f";color:{colour};font-weight:bold"
            cells.append(f'<td style="{style}">{html.escape(cell)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    footer = "".join(f"<br>{html.escape(line)}" for line in table.footer)
    return (f"<div><strong>{html.escape(table.title)}</strong>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<small>{footer[4:]}</small></div>")


_SCIENTIFIC = re.compile(r"^(-?\d\.\d+)e([+-])(\d+)$")
_TEXT_SPECIAL = {c: "\\" + c for c in "&%$#_{}"}


def _text(cell: str) -> str:
    return r"\text{" + "".join(_TEXT_SPECIAL.get(c, c) for c in cell) + "}"


def _latex_cell(cell: str, names: dict[str, str]) -> str:
    if cell in names:
        return names[cell]
    match = _SCIENTIFIC.match(cell)
    if match:
        mantissa, sign, exponent = match.groups()
        power = int(exponent) * (-1 if sign == "-" else 1)
        return f"{mantissa} \\times 10^{{{power}}}"
    if cell == "FAIL":
        return r"\textbf{FAIL}"
    return _text(cell)


def to_latex(table: Table) -> str:
    """A MathJax-friendly ``array`` (notebooks render ``_repr_latex_`` with MathJax)."""
    rows = [" & ".join(_text(h) for h in table.headers) + r" \\ \hline"]
    rows += [" & ".join(_latex_cell(c, table.latex_names) for c in row) + r" \\" for row in table.rows]
    inner = "\n".join([f"\\begin{{array}}{{{table.align}}}", *rows, r"\end{array}"])
    outer = [_text(table.title), inner, *(_text(line) for line in table.footer)]
    return "$$\n\\begin{array}{l}\n" + " \\\\\n".join(outer) + "\n\\end{array}\n$$"
