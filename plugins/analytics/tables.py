"""Tables: every figure is a table, built once and shown as HTML, CSV and JSON.

Masking happens here, when a table is built, so that the page, the CSV and the API
cannot disagree: a count of visitors from 1 to 4, and a rate, share or quartile
computed from fewer than 5 visitors, becomes the text ``"< 5"``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

__all__ = ["MASK", "MIN_CELL", "Column", "Table", "count", "masked", "rate", "to_csv"]

#: Fewer visitors than this in a cell could single out a child: the cell is masked.
MIN_CELL = 5
MASK = "< 5"

Cell = int | float | str | None
Kind = Literal["text", "count", "percent", "seconds"]


class Column(msgspec.Struct, frozen=True):
    key: str
    title: str
    kind: Kind = "count"


class Table(msgspec.Struct, kw_only=True):
    id: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    #: Index of the column a chart draws (None: no chart).
    chart: int | None = None
    note: str = ""

    def records(self) -> list[dict[str, Cell]]:
        return [{c.key: v for c, v in zip(self.columns, row, strict=True)} for row in self.rows]


def masked(value: int) -> int | str:
    """A count of visitors, masked from 1 to 4."""
    return MASK if 0 < value < MIN_CELL else value


def count(value: int) -> int | str:
    return masked(value)


def rate(part: float, base: int, *, digits: int = 1) -> float | str | None:
    """``part / base`` in percent; masked when ``base`` is 1 to 4, None when 0."""
    if base <= 0:
        return None
    if base < MIN_CELL:
        return MASK
    return round(100.0 * part / base, digits)


def largest_first(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """A distribution's items, largest first (ties by name): every share table's order."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def share_row(label: Cell, n: int, base: int) -> list[Cell]:
    """A share table's row: the count and its percentage of ``base``, the percentage
    masked too when the count is (a share would give a small count away)."""
    return [label, masked(n), rate(n, base) if n >= MIN_CELL else MASK]


def _csv_cell(value: Cell, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:g}" if value != int(value) else f"{int(value)}"
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def to_csv(table: Table, separator: str = ",") -> bytes:
    """UTF-8 with a BOM (Excel reads it right); with ``;`` decimals get a comma, as a
    Russian Excel expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([c.title for c in table.columns])
    comma = separator == ";"
    for row in table.rows:
        writer.writerow([_csv_cell(v, comma) for v in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def columns(*spec: tuple[str, str, Kind] | tuple[str, str]) -> list[Column]:
    return [Column(*item) for item in spec]  # type: ignore[arg-type]


def first(tables: Sequence[Table], table_id: str) -> Table | None:
    return next((t for t in tables if t.id == table_id), None)
