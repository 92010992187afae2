"""Figures: the read model's day records for a date range, summed into tables.

Pages, CSV and the JSON API all call :func:`section`, so they show the same numbers.
Everything is computed from :class:`~.model.DayStats` records (a few dozen reads
for a month), never from events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from promtour.plugin import PluginStore, Tour, pick_text

from .model import AUDIO, MISSION, DayStats, Live
from .tables import MASK, MIN_CELL, Table, columns, masked, rate

__all__ = ["SECTIONS", "Range", "load_days", "merge", "quantiles", "section"]

SECTIONS = ("overview", "funnel", "flow", "plugins", "live")
PERIODS = ("day", "week", "month")

Translate = Callable[[str], str]


class Range:
    """A date range (inclusive) and the period the overview groups by."""

    def __init__(self, start: date, end: date, period: str = "day") -> None:
        if end < start:
            start, end = end, start
        self.start = start
        self.end = end
        self.period = period if period in PERIODS else "day"

    @classmethod
    def parse(cls, start: str | None, end: str | None, period: str | None, today: date) -> Range:
        def day(text: str | None, default: date) -> date:
            try:
                return date.fromisoformat(text) if text else default
            except ValueError:
                return default

        last = day(end, today)
        return cls(day(start, last - timedelta(days=29)), last, period or "day")

    def contains(self, day: str) -> bool:
        return self.start.isoformat() <= day <= self.end.isoformat()


#: Longest range read day by day; a longer one lists the tour's day keys first.
DIRECT_DAYS = 400


async def load_days(store: PluginStore, span: Range) -> list[DayStats]:
    """The tour's day records within ``span`` (``store`` is its tour store).

    The keys of a range are known (one per day), so they are read at once,
    concurrently: listing the store's keys first would cost a read per key more."""
    days = (span.end - span.start).days + 1
    if days <= DIRECT_DAYS:
        keys = [f"day.{span.start + timedelta(days=i)}" for i in range(days)]
    else:
        keys = [k for k in await store.keys("day.") if span.contains(k[4:])]
    found = await asyncio.gather(*(store.get(k, DayStats) for k in keys))
    return [d for d in found if d is not None]


def _add(into: dict[Any, int], other: dict[Any, int]) -> None:
    for key, n in other.items():
        into[key] = into.get(key, 0) + n


def _add_rows(into: dict[str, list[int]], other: dict[str, list[int]]) -> None:
    for key, row in other.items():
        mine = into.setdefault(key, [0] * len(row))
        for i, n in enumerate(row):
            mine[i] += n


def merge(days: Iterable[DayStats]) -> DayStats:
    total = DayStats()
    for d in days:
        for name in (
            "visitors", "groups", "scans", "qr", "number", "repeat", "finishes",
            "quest_players", "quest_completed", "quizzes", "leads",
        ):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(d, name))
        for name in ("langs", "reached", "types", "codes"):
            _add(getattr(total, name), getattr(d, name))
        for station, hist in d.dwell.items():
            _add(total.dwell.setdefault(station, {}), hist)
        for station, nexts in d.transitions.items():
            _add(total.transitions.setdefault(station, {}), nexts)
        _add_rows(total.audio, d.audio)
        _add_rows(total.missions, d.missions)
    return total


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


def _station_names(tour: Tour, lang: str) -> dict[str, str]:
    return {s.id: pick_text(s.name, lang, s.id) for s in tour.stations}


def _ordered_stations(tour: Tour, seen: Iterable[str]) -> list[str]:
    ids = [s.id for s in tour.stations]
    return ids + sorted(set(seen) - set(ids))


def overview(days: list[DayStats], span: Range, _: Translate) -> list[Table]:
    total = merge(days)
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
    periods: dict[str, list[DayStats]] = {}
    for d in sorted(days, key=lambda d: d.day):
        periods.setdefault(_period_of(d.day, span.period), []).append(d)
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
        rows=[
            [
                p,
                masked(m.visitors),
                masked(m.groups),
                masked(m.scans),
                masked(m.finishes),
            ]
            for p, ds in periods.items()
            for m in [merge(ds)]
        ],
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
        rows=[
            [lang, masked(n), rate(n, total.visitors) if n >= MIN_CELL else MASK]
            for lang, n in sorted(total.langs.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
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


def funnel(days: list[DayStats], tour: Tour, lang: str, _: Translate) -> list[Table]:
    total = merge(days)
    names = _station_names(tour, lang)
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


def flow(days: list[DayStats], tour: Tour, lang: str, _: Translate) -> list[Table]:
    total = merge(days)
    names = _station_names(tour, lang)
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
            [names.get(a, a)] + [masked(total.transitions.get(a, {}).get(b, 0)) for b in order]
            for a in order
        ],
    )
    return [dwell, transitions]


def plugins(days: list[DayStats], tour: Tour, lang: str, _: Translate) -> list[Table]:
    total = merge(days)
    audio_rows = []
    for key in sorted(total.audio):
        track, _sep, track_lang = key.partition("|")
        row = dict(zip(AUDIO, total.audio[key], strict=True))
        starts = row["starts"]
        audio_rows.append(
            [
                track,
                track_lang,
                masked(starts),
                rate(row["q1"], starts),
                rate(row["q2"], starts),
                rate(row["q3"], starts),
                rate(row["finished"], starts),
            ]
        )
    audio = Table(
        id="audio",
        title=_("Audio: starts and listen-through"),
        note=_("Share of starts that went past a quarter, half, three quarters, and to the end."),
        columns=columns(
            ("track", _("Track"), "text"),
            ("lang", _("Language"), "text"),
            ("starts", _("Starts")),
            ("q1", _("Past 25%, %"), "percent"),
            ("q2", _("Past 50%, %"), "percent"),
            ("q3", _("Past 75%, %"), "percent"),
            ("finished", _("To the end, %"), "percent"),
        ),
        rows=audio_rows,
        chart=2,
    )
    mission_rows = []
    for mission in sorted(total.missions):
        row = dict(zip(MISSION, total.missions[mission], strict=True))
        tried = row["attempted"]
        mission_rows.append(
            [
                mission,
                masked(tried),
                rate(row["solved"], tried),
                rate(row["wrong"], row["answers"]) if tried >= MIN_CELL else masked(tried) or None,
                rate(row["hinted"], tried),
                masked(row["failed"]),
            ]
        )
    missions = Table(
        id="missions",
        title=_("Quest missions"),
        columns=columns(
            ("mission", _("Mission"), "text"),
            ("attempted", _("Visitors who answered")),
            ("solve_rate", _("Solved, %"), "percent"),
            ("wrong_rate", _("Wrong answers, %"), "percent"),
            ("hint_rate", _("Took a hint, %"), "percent"),
            ("failed", _("Out of attempts")),
        ),
        rows=mission_rows,
        chart=2,
    )
    quest = Table(
        id="quest",
        title=_("Quest and career quiz"),
        columns=columns(("figure", _("Figure"), "text"), ("value", _("Value"))),
        rows=[
            [_("Quest players"), masked(total.quest_players)],
            [_("Quest completed"), masked(total.quest_completed)],
            [_("Quest completion, %"), rate(total.quest_completed, total.quest_players)],
            [_("Career quizzes completed"), masked(total.quizzes)],
            [_("Quiz completion, % of visitors"), rate(total.quizzes, total.visitors)],
            [_("Leads created"), masked(total.leads)],
        ],
    )
    types = Table(
        id="types",
        title=_("Interest types (top type of each quiz)"),
        columns=columns(
            ("type", _("Type"), "text"),
            ("quizzes", _("Quizzes")),
            ("share", _("Share, %"), "percent"),
        ),
        rows=[
            [t, masked(n), rate(n, total.quizzes) if n >= MIN_CELL else MASK]
            for t, n in sorted(total.types.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        chart=1,
    )
    codes = Table(
        id="codes",
        title=_("Most common interest codes"),
        columns=columns(("code", _("Code"), "text"), ("quizzes", _("Quizzes"))),
        rows=[
            [c, masked(n)]
            for c, n in sorted(total.codes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ],
    )
    return [audio, missions, quest, types, codes]


def live(record: Live | None, tour: Tour, lang: str, now: float, _: Translate) -> list[Table]:
    names = _station_names(tour, lang)
    since = int(now) // 60 - 15
    counts: dict[str, int] = {}
    for minute, stations in (record.minutes if record else {}).items():
        if minute > since:
            _add(counts, stations)
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
    days = await load_days(store, span)
    if name == "overview":
        return overview(days, span, _)
    if name == "funnel":
        return funnel(days, tour, lang, _)
    if name == "flow":
        return flow(days, tour, lang, _)
    return plugins(days, tour, lang, _)
