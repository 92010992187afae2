"""The consumer: batches of events folded into the read model, one write per record.

A batch (up to ``PluginInfo.batch_size`` events, in stream order) is grouped by tour
and day; each touched day's two records are read once, every event of the day is
folded in memory, and the records are written back at the revision they were read
at; then the tour's day index (``days``: each day record's ``seq``, what the pages'
cache keys on) and the live record. So a 5,000-event batch costs a handful of store
reads and writes, not thousands. Records are read afresh for every batch, never
cached across batches: a rebuild may erase them at any time, and a cache would not
notice. A write that finds
the record changed by someone else raises ``Conflict`` and the core redelivers the
batch, which the ``seq`` checkpoints make harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from promtour.plugin import Conflict, PluginStore, StreamEvent

from .model import DayIndex, DayStats, DayVisitors, Live, apply, apply_live
from .reading import store_past_sums

__all__ = ["Folder", "erase_tour"]

DAY = 86400


class _Entry:
    __slots__ = ("revision", "value")

    def __init__(self, value: Any, revision: int | None) -> None:
        self.value = value
        self.revision = revision


class Folder:
    """Folds batches into the store."""

    def __init__(self) -> None:
        #: Tour store prefix -> the month up to which past months' sums are stored.
        self._summed: dict[str, str] = {}

    async def _load(self, store: PluginStore, key: str, type_: type[Any]) -> _Entry:
        found = await store.read(key, type_)
        return _Entry(found.value if found.value is not None else type_(), found.revision)

    async def _save(
        self, store: PluginStore, key: str, entry: _Entry, ttl: float | None = None
    ) -> None:
        try:
            entry.revision = await store.replace(key, entry.value, entry.revision, ttl=ttl)
            return
        except Conflict:
            # An erased key keeps a marker that "absent" does not match: create it.
            if entry.revision is None and await store.create(key, entry.value, ttl=ttl):
                entry.revision = (await store.read(key, type(entry.value))).revision
                return
            raise

    async def _index(self, store: PluginStore, seqs: dict[str, int]) -> dict[str, int]:
        """Note the touched days' ``seq`` in the tour's day index (after the day
        records: the index never names a ``seq`` a day record does not have yet)."""
        index = await self._load(store, "days", DayIndex)
        changed = False
        if index.revision is None:
            # No index yet: a tour whose day records predate it (or a rebuild, which
            # erased them too). Note the existing days once, or pages would miss them.
            for key in await store.keys("day."):
                if key[4:] not in seqs:
                    old = await store.get(key, DayStats)
                    if old is not None and old.seq:
                        index.value.days[key[4:]] = old.seq
                        changed = True
        for day, seq in seqs.items():
            if seq and index.value.days.get(day) != seq:
                index.value.days[day] = seq
                changed = True
        if changed:
            await self._save(store, "days", index)
        return index.value.days

    async def fold(self, batch: Sequence[StreamEvent]) -> None:
        # tour key -> day -> items, in stream order. (Per event, so no setdefault
        # with a fresh default each time, and a day's name made once per date.)
        by_tour: dict[str, tuple[StreamEvent, dict[str, list[StreamEvent]]]] = {}
        names: dict[date, str] = {}
        for item in batch:
            tour = item.ctx.tour
            entry = by_tour.get(tour.key)
            if entry is None:
                entry = by_tour[tour.key] = (item, {})
            when = item.event.time.date()
            day = names.get(when)
            if day is None:
                day = names[when] = when.isoformat()
            items = entry[1].get(day)
            if items is None:
                entry[1][day] = [item]
            else:
                items.append(item)
        for first, days in by_tour.values():
            store = first.ctx.tour_store
            ttl = float(first.ctx.config.visitor_days * DAY)
            seqs: dict[str, int] = {}
            for day, items in days.items():
                stats = await self._load(store, f"day.{day}", DayStats)
                visits = await self._load(store, f"vis.{day}", DayVisitors)
                stats.value.day = day
                before = (stats.value.seq, visits.value.seq)
                for item in items:
                    apply(item.seq, item.event, stats.value, visits.value)
                seqs[day] = stats.value.seq
                if (stats.value.seq, visits.value.seq) == before:
                    continue  # a redelivery of what these records have
                # Stats first: see the model's note on idempotency.
                if stats.value.seq != before[0]:
                    await self._save(store, f"day.{day}", stats)
                await self._save(store, f"vis.{day}", visits, ttl=ttl)
            index = await self._index(store, seqs)
            latest = max(days)[:7]
            if latest > self._summed.get(store.prefix, ""):
                # The events reached a new month: sum and store the past ones now (a
                # few dozen reads once a month), so that no page sums them. A late
                # event changes a past month's sum; the page that needs it sums it.
                await store_past_sums(store, index, latest)
                self._summed[store.prefix] = latest
            live = await self._load(store, "live", Live)
            seq = live.value.seq
            for items in days.values():
                for item in items:
                    apply_live(item.seq, item.event, live.value)
            if live.value.seq != seq:
                await self._save(store, "live", live, ttl=3600.0)


async def erase_tour(store: PluginStore) -> int:
    """Drop a tour's read model (``store`` is its tour store); returns the records."""
    count = 0
    for prefix in ("day.", "vis.", "sum."):
        count += await store.erase_all(prefix)
    for key in ("live", "days"):
        count += int(await store.erase(key))
    return count
