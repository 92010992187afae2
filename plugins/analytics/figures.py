"""Figures: a date range's totals of the read model, as tables.

Pages, CSV and the JSON API all call :func:`section`, so they show the same numbers.
Everything is computed from the range's summed :class:`~.model.DayStats` (read with
:func:`.reading.load_range`: the day index and a cache), never from events. The
overview, funnel, flow and live tables are here; the audio, quest and career ones in
:mod:`.plugin_tables`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from promtour.plugin import PluginStore, Tour, pick_text

from .model import DayStats, Live
from .plugin_tables import plugins
from .reading import DayRow, Loaded, Range, load_range
from .tables import MASK, MIN_CELL, Table, columns, largest_first, masked, rate, share_row

__all__ = [
    "SECTIONS",
    "Range",
    "Translate",
    "overview",
    "quantiles",
    "section",
    "station_names",
]

SECTIONS = ("overview", "funnel", "flow", "plugins", "live")

Translate = Callable[[str], str]


def quantiles(hist: dict[int, int]) -> tuple[int, float, float, float]:
    """(n, Q1, median, Q3) of the values counted in ``hist``: linear interpolation
    between order statistics at ``q * (n - 1)`` (``statistics.quantiles`` with
    ``method="inclusive"``)."""
    n = sum(hist.values())
    if n == 0:
        return 0, 0.0, 0.0, 0.0
    ordered = sorted(hist.items())

    def nth(i: int) -> int:  # the i-th smallest value (0-based)
        seen = 0
        for value, k in ordered:
            seen += k
            if i < seen:
                return value
        return ordered[-1][0]

    out = []
    for q in (0.25, 0.5, 0.75):
        pos = q * (n - 1)
        lo = int(pos)
        frac = pos - lo
        a = nth(lo)
        b = nth(min(lo + 1, n - 1)) if frac else a
        out.append(round(a + (b - a) * frac, 1))
    return n, out[0], out[1], out[2]


def _period_of(day: str, period: str) -> str:
    if period == "month":
        return day[:7]
    if period == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    return day


def station_names(tour: Tour, lang: str) -> dict[str, str]:
    return {s.id: pick_text(s.name, lang, s.id) for s in tour.stations}


def _ordered_stations(tour: Tour, seen: Iterable[str]) -> list[str]:
    ids = [s.id for s in tour.stations]
    return ids + sorted(set(seen) - set(ids))


def _sum_rows(rows: Iterable[DayRow]) -> list[int]:
    sums = [0, 0, 0, 0]
    for r in rows:
        sums[0] += r.visitors
        sums[1] += r.groups
        sums[2] += r.scans
        sums[3] += r.finishes
    return sums


def overview(loaded: Loaded, span: Range, _: Translate) -> list[Table]:
    total = loaded.total
    summary = Table(
        id="summary",
        title=_("Summary"),
        columns=columns(("figure", _("Figure"), "text"), ("value", _("Value"))),
        rows=[
            [_("Visitors"), masked(total.visitors)],
            [_("Groups"), masked(total.groups)],
            [_("Scans"), masked(total.scans)],
            [_("Finishes"), masked(total.finishes)],
            [_("Repeat visitors"), masked(total.repeat)],
        ],
    )
    periods: dict[str, list[DayRow]] = {}
    for r in sorted(loaded.rows, key=lambda r: r.day):
        periods.setdefault(_period_of(r.day, span.period), []).append(r)
    by_period = Table(
        id="periods",
        title=_("Visitors by period"),
        columns=columns(
            ("period", _("Period"), "text"),
            ("visitors", _("Visitors")),
            ("groups", _("Groups")),
            ("scans", _("Scans")),
            ("finishes", _("Finishes")),
        ),
        rows=[[p, *(masked(n) for n in _sum_rows(rs))] for p, rs in periods.items()],
        chart=1,
    )
    languages = Table(
        id="languages",
        title=_("Languages"),
        columns=columns(
            ("lang", _("Language"), "text"),
            ("visitors", _("Visitors")),
            ("share", _("Share, %"), "percent"),
        ),
        rows=[share_row(lang, n, total.visitors) for lang, n in largest_first(total.langs)],
        chart=1,
    )
    methods = Table(
        id="methods",
        title=_("QR code or typed number"),
        columns=columns(
            ("method", _("Check-in"), "text"),
            ("scans", _("Scans")),
            ("share", _("Share, %"), "percent"),
        ),
        rows=[
            [_("QR code"), masked(total.qr), rate(total.qr, total.scans)],
            [_("Typed number"), masked(total.number), rate(total.number, total.scans)],
        ],
        chart=1,
    )
    return [summary, by_period, languages, methods]


def funnel(total: DayStats, tour: Tour, lang: str, _: Translate) -> list[Table]:
    names = station_names(tour, lang)
    steps: list[tuple[str, int]] = [(_("Start"), total.visitors)]
    steps += [
        (names.get(s, s), total.reached.get(s, 0)) for s in _ordered_stations(tour, total.reached)
    ]
    steps.append((_("Finish"), total.finishes))
    rows: list[list[Any]] = []
    previous: int | None = None
    for step, n in steps:
        dropped = None if previous is None else previous - n
        rows.append(
            [
                step,
                masked(n),
                rate(n, total.visitors),
                None if dropped is None else (masked(dropped) if dropped >= 0 else dropped),
            ]
        )
        previous = n
    return [
        Table(
            id="funnel",
            title=_("Funnel"),
            columns=columns(
                ("step", _("Step"), "text"),
                ("visitors", _("Visitors")),
                ("of_start", _("Of start, %"), "percent"),
                ("dropped", _("Dropped since previous step")),
            ),
            rows=rows,
            chart=1,
        )
    ]


def flow(total: DayStats, tour: Tour, lang: str, _: Translate) -> list[Table]:
    names = station_names(tour, lang)
    order = _ordered_stations(tour, set(total.dwell) | set(total.transitions) | set(total.reached))
    dwell_rows: list[list[Any]] = []
    for station in order:
        n, q1, q2, q3 = quantiles(total.dwell.get(station, {}))
        nexts = total.transitions.get(station, {})
        top = max(sorted(nexts), key=lambda s: nexts[s]) if nexts else None
        if n < MIN_CELL:
            stats: list[Any] = [
                masked(n),
                MASK if n else None,
                MASK if n else None,
                MASK if n else None,
            ]
        else:
            stats = [n, q1, q2, q3]
        next_cell: Any = None
        if top is not None:
            next_cell = names.get(top, top) if nexts[top] >= MIN_CELL else MASK
        dwell_rows.append([names.get(station, station), *stats, next_cell])
    dwell = Table(
        id="dwell",
        title=_("Time at each station"),
        note=_("Time from a visitor's check-in to their next check-in at another station."),
        columns=columns(
            ("station", _("Station"), "text"),
            ("visitors", _("Measured visitors")),
            ("q1", _("First quartile, s"), "seconds"),
            ("median", _("Median, s"), "seconds"),
            ("q3", _("Third quartile, s"), "seconds"),
            ("next", _("Most common next station"), "text"),
        ),
        rows=dwell_rows,
        chart=3,
    )
    transitions = Table(
        id="transitions",
        title=_("Transitions between stations"),
        note=_("Rows: from; columns: to; visitors who went that way."),
        columns=columns(("from", _("From / to"), "text"))
        + columns(*((s, names.get(s, s)) for s in order)),
        rows=[
            [names.get(a, a), *(masked(total.transitions.get(a, {}).get(b, 0)) for b in order)]
            for a in order
        ],
    )
    return [dwell, transitions]


def live(record: Live | None, tour: Tour, lang: str, now: float, _: Translate) -> list[Table]:
    names = station_names(tour, lang)
    since = int(now) // 60 - 15
    counts: dict[str, int] = {}
    for minute, stations in (record.minutes if record else {}).items():
        if minute > since:
            for station, n in stations.items():
                counts[station] = counts.get(station, 0) + n
    order = _ordered_stations(tour, counts)
    return [
        Table(
            id="live",
            title=_("Check-ins in the last 15 minutes"),
            columns=columns(("station", _("Station"), "text"), ("checkins", _("Check-ins"))),
            rows=[[names.get(s, s), masked(counts.get(s, 0))] for s in order],
            chart=1,
        )
    ]


async def section(
    name: str, store: PluginStore, tour: Tour, span: Range, lang: str, now: float, _: Translate
) -> list[Table]:
    """The tables of one section of a tour's figures."""
    if name == "live":
        return live(await store.get("live", Live), tour, lang, now, _)
    loaded = await load_range(store, span)
    if name == "overview":
        return overview(loaded, span, _)
    if name == "funnel":
        return funnel(loaded.total, tour, lang, _)
    if name == "flow":
        return flow(loaded.total, tour, lang, _)
    return plugins(loaded.total, tour, lang, _)
