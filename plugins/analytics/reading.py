"""Reading the read model for a date range: a few keys and a cache, not a record per day.

A page needs the range's totals (one :class:`~.model.DayStats` summed over its days)
and, for the overview, four counts per day. Reading and summing every day record on
every request cost a read per day (185 for a million events) and grew with the range.

Here a request reads one key, the tour's day index (``days``: each day record's
``seq``), and takes the rest from this process's cache:

- a day record's content is a function of the day's events up to its ``seq`` (a
  replay or a rebuild writes the same record at the same ``seq``), so a record read
  once is cached under ``(tour, day, seq)`` and is never stale: a changed day has a
  new ``seq`` in the index and is read again;
- the sum of a month's days (the part of the month inside the range) is cached
  under the ``(day, seq)`` pairs it was summed from: past months never change, so a
  long range sums a handful of month totals; only the month with today in it is
  summed again, from cached days and a fresh read of today.

The sum of a past month (not the current one, in UTC) is also stored, as
``sum.<YYYY-MM>`` with the pairs it was summed from, so that a process that just
started reads one record per month, not one per day. The consumer stores them when
its events reach a new month (:func:`store_past_sums`), so a page seldom sums one; a
stored sum whose pairs differ from the index's (late events, a rebuild half-way) is
summed again and replaced. Its
content follows from its pairs, so two processes writing it at once write the same.

A tour whose read model has no index yet (built before it existed) is read day by
day as before, until its next event: the consumer's first index notes the existing
days too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import msgspec
from promtour.plugin import PluginStore

from .model import DayIndex, DayStats

__all__ = [
    "DayRow",
    "Loaded",
    "MonthSum",
    "Range",
    "load_days",
    "load_range",
    "merge",
    "store_past_sums",
]

log = logging.getLogger("promtour.analytics")

PERIODS = ("day", "week", "month")
#: Longest range read day by day (no index); a longer one lists the day keys first.
DIRECT_DAYS = 400
#: Day records and month sums kept in memory (per process, all tours): a day record
#: of a busy tour is some tens of KB decoded.
CACHED_DAYS = 2000
CACHED_MONTHS = 500

K = TypeVar("K")
V = TypeVar("V")


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


class DayRow(msgspec.Struct, array_like=True, frozen=True):
    """The overview's counts of one day."""

    day: str
    visitors: int
    groups: int
    scans: int
    finishes: int


class Loaded(msgspec.Struct):
    """A range's figures: the totals and the overview's rows per day (in order).
    ``total`` may be shared with the cache: read it, never change it."""

    total: DayStats
    rows: list[DayRow]


class MonthSum(msgspec.Struct, kw_only=True):
    """A stored sum of a past month's days (key ``sum.<YYYY-MM>``)."""

    #: The (day, seq) pairs summed: valid while the day index has the same.
    days: list[tuple[str, int]]
    total: DayStats
    rows: list[DayRow]


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_DAYS: _Lru[tuple[str, str, int], DayStats] = _Lru(CACHED_DAYS)
_MONTHS: _Lru[tuple[Any, ...], Loaded] = _Lru(CACHED_MONTHS)


def _add(into: dict[Any, int], other: dict[Any, int]) -> None:
    for key, n in other.items():
        into[key] = into.get(key, 0) + n


def _add_rows(into: dict[str, list[int]], other: dict[str, list[int]]) -> None:
    for key, row in other.items():
        mine = into.setdefault(key, [0] * len(row))
        for i, n in enumerate(row):
            mine[i] += n


COUNTS = (
    "visitors", "groups", "scans", "qr", "number", "repeat", "finishes",
    "quest_players", "quest_completed", "quizzes", "leads",
)  # fmt: skip


def merge(days: Iterable[DayStats]) -> DayStats:
    """The sum of day records (or of sums): a new record, the inputs unchanged."""
    total = DayStats()
    for d in days:
        for name in COUNTS:
            setattr(total, name, getattr(total, name) + getattr(d, name))
        for name in ("langs", "reached", "types", "codes", "top"):
            _add(getattr(total, name), getattr(d, name))
        for station, hist in d.dwell.items():
            _add(total.dwell.setdefault(station, {}), hist)
        for station, nexts in d.transitions.items():
            _add(total.transitions.setdefault(station, {}), nexts)
        _add_rows(total.audio, d.audio)
        _add_rows(total.missions, d.missions)
    return total


def _row(d: DayStats) -> DayRow:
    return DayRow(d.day, d.visitors, d.groups, d.scans, d.finishes)


async def load_days(store: PluginStore, span: Range) -> list[DayStats]:
    """The tour's day records within ``span``, each read (no index, no cache)."""
    days = (span.end - span.start).days + 1
    if days <= DIRECT_DAYS:
        keys = [f"day.{span.start + timedelta(days=i)}" for i in range(days)]
    else:
        keys = [k for k in await store.keys("day.") if span.contains(k[4:])]
    found = await asyncio.gather(*(store.get(k, DayStats) for k in keys))
    return [d for d in found if d is not None]


async def load_range(store: PluginStore, span: Range) -> Loaded:
    """The range's totals and day rows (``store`` is the tour's store)."""
    index = await store.get("days", DayIndex)
    if index is None:
        listed = sorted(await load_days(store, span), key=lambda d: d.day)
        return Loaded(merge(listed), [_row(d) for d in listed])
    months: dict[str, list[tuple[str, int]]] = {}
    for day, seq in sorted(index.days.items()):
        if span.contains(day):
            months.setdefault(day[:7], []).append((day, seq))
    parts = await _parts(store, months, datetime.now(UTC).date().isoformat()[:7])
    ordered = [parts[m] for m in sorted(parts)]
    if len(ordered) == 1:
        return ordered[0]
    return Loaded(merge(p.total for p in ordered), [r for p in ordered for r in p.rows])


async def _parts(
    store: PluginStore, months: dict[str, list[tuple[str, int]]], this_month: str
) -> dict[str, Loaded]:
    """Each month's sum of its ``(day, seq)`` pairs: from memory, from the stored sum
    (months before ``this_month``), else summed from the day records (and stored)."""
    tour = store.prefix
    parts: dict[str, Loaded] = {}
    for month, pairs in months.items():
        cached = _MONTHS.get((tour, *pairs))
        if cached is not None:
            parts[month] = cached
    past = [m for m in months if m not in parts and m < this_month]
    stored = await asyncio.gather(*(store.get(f"sum.{m}", MonthSum) for m in past))
    for month, found_sum in zip(past, stored, strict=True):
        if found_sum is not None and [tuple(p) for p in found_sum.days] == months[month]:
            parts[month] = Loaded(found_sum.total, found_sum.rows)
            _MONTHS.put((tour, *months[month]), parts[month])
    missing: list[tuple[str, int]] = []
    for month, pairs in months.items():
        if month not in parts:
            missing += [p for p in pairs if _DAYS.get((tour, *p)) is None]
    found = await asyncio.gather(*(store.get(f"day.{day}", DayStats) for day, _ in missing))
    fresh = {day: d for (day, _), d in zip(missing, found, strict=True) if d is not None}
    for month, pairs in months.items():
        if month in parts:
            continue
        days: list[DayStats] = []
        complete = True
        for day, seq in pairs:
            d = _DAYS.get((tour, day, seq)) or fresh.get(day)
            if d is None:
                complete = False  # erased meanwhile (a rebuild): nothing to count
                continue
            if d.seq == seq:
                _DAYS.put((tour, day, seq), d)
            else:
                complete = False  # written since the index was read: count it, once
            days.append(d)
        part = Loaded(merge(days), [_row(d) for d in days])
        if complete:
            _MONTHS.put((tour, *pairs), part)
            if month < this_month:
                summed = MonthSum(days=pairs, total=part.total, rows=part.rows)
                await _store_sum(store, month, summed)
        parts[month] = part
    return parts


async def store_past_sums(store: PluginStore, days: dict[str, int], latest: str) -> list[str]:
    """Sum and store the months of the day index ``days`` before the month ``latest``
    whose stored sum is missing or stale; returns those months. The consumer calls
    it when its events reach a new month, so that no page has to sum a past month."""
    latest = min(latest, datetime.now(UTC).date().isoformat()[:7])
    months: dict[str, list[tuple[str, int]]] = {}
    for day, seq in sorted(days.items()):
        if day[:7] < latest:
            months.setdefault(day[:7], []).append((day, seq))
    await _parts(store, months, latest)
    return list(months)


async def _store_sum(store: PluginStore, month: str, value: MonthSum) -> None:
    """Keep a past month's sum for the next process; a page never fails for it."""
    try:
        await store.put(f"sum.{month}", value)
    except Exception as exc:
        log.warning("analytics: could not store the sum of %s: %s", month, exc)
