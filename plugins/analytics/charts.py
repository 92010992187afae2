"""Charts drawn on the server as SVG: horizontal bars, one per table row.

No chart library and no script: the SVG is part of the page, prints as it shows, and
is accessible: ``role="img"``, a ``<title>`` and a ``<desc>`` (which says the figures
are in the table beside it), axis labels, and a ``<title>`` per bar with its value.
A masked cell ("< 5") draws no bar but says so.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .tables import Table

__all__ = ["bar_chart"]

ROW = 26
LABEL = 150
WIDTH = 520
TOP = 28
BOTTOM = 34


def _fmt(value: float) -> str:
    return f"{value:g}"


def bar_chart(table: Table, *, desc: str, axis: str = "") -> Markup:
    """A bar chart of the table's ``chart`` column against its first column."""
    if table.chart is None or not table.rows:
        return Markup("")
    col = table.columns[table.chart]
    values = [row[table.chart] for row in table.rows]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    top = max(numbers, default=0.0) or 1.0
    height = TOP + ROW * len(table.rows) + BOTTOM
    plot = WIDTH - LABEL - 60
    cid = f"chart-{table.id}"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{cid}-title {cid}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{cid}-title">{escape(table.title)}: {escape(col.title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        f'<text x="{LABEL}" y="16" class="axis-label">{escape(axis or col.title)}</text>',
    ]
    for i, (row, value) in enumerate(zip(table.rows, values, strict=True)):
        y = TOP + i * ROW
        label = str(row[0])
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 17}" text-anchor="end" class="bar-label">'
            f"{escape(label[:24])}</text>"
        )
        if isinstance(value, int | float):
            w = max(1.0, plot * float(value) / top) if value else 0.0
            shown = _fmt(float(value))
            parts.append(
                f'<rect x="{LABEL}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" class="bar">'
                f"<title>{escape(label)}: {shown}</title></rect>"
                f'<text x="{LABEL + w + 4:.1f}" y="{y + 17}" class="bar-value">{shown}</text>'
            )
        else:
            shown = "" if value is None else str(value)
            parts.append(
                f'<text x="{LABEL + 4}" y="{y + 17}" class="bar-value">{escape(shown)}</text>'
            )
    base = TOP + ROW * len(table.rows)
    parts.append(
        f'<line x1="{LABEL}" y1="{TOP}" x2="{LABEL}" y2="{base}" class="axis"/>'
        f'<line x1="{LABEL}" y1="{base}" x2="{LABEL + plot}" y2="{base}" class="axis"/>'
        f'<text x="{LABEL}" y="{base + 16}" class="tick">0</text>'
        f'<text x="{LABEL + plot}" y="{base + 16}" text-anchor="end" class="tick">'
        f"{_fmt(top)}</text>"
        f'<text x="{LABEL}" y="{base + 30}" class="axis-label">'
        f"{escape(table.columns[0].title)} / {escape(col.title)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
