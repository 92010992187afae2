"""The HR export of leads as CSV that Excel opens right (Cyrillic, formulas)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from .leads import Lead

__all__ = ["CSV_COLUMNS", "leads_csv"]

CSV_COLUMNS = (
    "id",
    "created",
    "expires",
    "name",
    "contact",
    "age",
    "school_or_city",
    "professions",
    "tour",
    "language",
    "consent_version",
    "consent_given",
    "guardian_name",
    "guardian_contact",
    "guardian_confirmed",
)
#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PHONE_LIKE = re.compile(r"^[+\-]?[0-9 ()\-]+$")


def _cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    # CSV injection: a cell that starts like a formula is prefixed with an apostrophe,
    # except phone numbers ("+7 912 ..."), which spreadsheets read as text or numbers.
    if text.startswith(FORMULA_START) and not PHONE_LIKE.match(text):
        text = "'" + text
    return text


def leads_csv(
    leads: Iterable[Lead], titles: Callable[[Lead], list[str]], *, separator: str = ","
) -> str:
    """The leads as CSV text, starting with a UTF-8 byte-order mark so that Excel reads
    Cyrillic right; ``separator=";"`` for a Russian-locale Excel."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        guardian = lead.guardian
        writer.writerow(
            _cell(v)
            for v in (
                lead.id,
                lead.created,
                lead.expires,
                lead.name,
                lead.contact,
                lead.age,
                lead.place,
                ", ".join(titles(lead)),
                lead.tour,
                lead.lang,
                lead.consent.version,
                lead.consent.given,
                guardian.name if guardian else "",
                guardian.contact if guardian else "",
                guardian.confirmed if guardian else "",
            )
        )
    return buffer.getvalue()
