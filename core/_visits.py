"""Visits: a visitor's check-ins, group and finish of a tour, and their progress record.

The flow of a scan's write side: the ``visitor_checked_in`` event first (acked by
JetStream), then the progress record in KV with optimistic concurrency. The event id
is derived from the visitor's scan count at the station, so a retried request after a
lost response stores the event once; a second scan of the same station within
:data:`DOUBLE_SCAN_SECONDS` (a double tap, a reload) is the same check-in.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime

import msgspec
from promtour._bus import (
    BUCKET_PROGRESS,
    Bus,
    BusUnavailable,
    Conflict,
    cancel_tasks,
    read,
    update_with_retry,
)
from promtour._events import TourFinished, VisitorCheckedIn, VisitorJoinedGroup
from promtour._metrics import Metrics
from promtour._models import Progress, Station, Tour, utcnow
from promtour._tours import TourState

__all__ = ["DOUBLE_SCAN_SECONDS", "CheckIn", "Visits"]

_progress_decoder = msgspec.json.Decoder(Progress)
_CHECKIN_NS = uuid.UUID("6f1d3c2e-8a4b-4c1e-9a57-3c0de5a1f00d")

log = logging.getLogger("promtour._visits")

#: Seconds within which a second scan of the same station is the same check-in.
DOUBLE_SCAN_SECONDS = 10.0

#: After a check-in's event is stored but its progress write failed, the write is
#: retried in the background: first after this many seconds, doubling up to the next.
PROGRESS_RETRY_FIRST = 0.5
PROGRESS_RETRY_MAX = 10.0
#: ... for at most this long (then the visitor's own retry is the remaining way).
PROGRESS_RETRY_FOR = 600.0


def _is_double_scan(progress: Progress, station: str, now: datetime) -> bool:
    last = progress.last_scan.get(station)
    return last is not None and abs((now - last).total_seconds()) < DOUBLE_SCAN_SECONDS


class CheckIn(msgspec.Struct):
    progress: Progress
    repeat: bool
    event_id: str


class Visits:
    """Reads and writes the visitors' progress records of every tour."""

    def __init__(self, bus: Bus, metrics: Metrics) -> None:
        self._bus = bus
        self._metrics = metrics
        self._progress_writes: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        """Stop the background progress writes (at shutdown)."""
        await cancel_tasks(self._progress_writes)

    def progress_key(self, tour: Tour, visitor: str) -> str:
        return f"{tour.key}.{visitor}"

    async def progress(self, tour: Tour, visitor: str) -> Progress | None:
        kv = await self._bus.bucket(BUCKET_PROGRESS)
        found = await read(kv, self.progress_key(tour, visitor), _progress_decoder)
        return found[0]

    async def check_in(
        self,
        state: TourState,
        station: Station,
        visitor: str,
        *,
        lang: str,
        method: str = "qr",
        time: datetime | None = None,
        action: str | None = None,
    ) -> CheckIn:
        """Record a visit: the event first (acked), then the progress.

        The event id is derived from the visitor's scan count at this station, so a
        retried request after a lost response stores the event once. A second scan of
        the same station within ``DOUBLE_SCAN_SECONDS`` (a double tap, a reload) is the
        same check-in: no new event, no new count.

        A check-in queued on a phone without signal and replayed later comes with its
        original ``time`` (already bounded by the caller) and the queued ``action``'s
        id: the event carries that time and an id derived from the action, so the
        visit counts as if it had been recorded then (see promtour._offline).
        """
        tour = state.tour
        kv = await self._bus.bucket(BUCKET_PROGRESS)
        key = self.progress_key(tour, visitor)
        found = await read(kv, key, _progress_decoder)
        current, revision = found
        now = time or utcnow()
        if current is not None and _is_double_scan(current, station.id, now):
            return CheckIn(progress=current, repeat=True, event_id="")
        count = current.scans.get(station.id, 0) if current else 0
        seed = f"{key}:action:{action}" if action else f"{key}:{station.id}:{count}"
        event = VisitorCheckedIn(
            id=uuid.uuid5(_CHECKIN_NS, seed).hex,
            enterprise=tour.enterprise,
            tour=tour.id,
            station=station.id,
            visitor=visitor,
            group=current.group if current else None,
            time=now,
            method=method,
            repeat=count > 0,
            lang=lang,
        )
        await self._bus.publish(event)

        def visit(progress: Progress | None) -> Progress:
            progress = progress or Progress(visitor=visitor, tour=tour.key, started=now)
            # A replayed check-in may be older than the record's start.
            progress.started = min(progress.started, now)
            if station.id not in progress.visited:
                progress.visited.append(station.id)
            # This check-in is the station's scan number ``count + 1`` (its event id says
            # so): counted once, whoever writes it first (this request, a concurrent
            # duplicate of it, the visitor's retry or the background write).
            if progress.scans.get(station.id, 0) <= count:
                progress.scans[station.id] = count + 1
                last = progress.last_scan.get(station.id)
                progress.last_scan[station.id] = max(last, now) if last else now
            return progress

        try:
            progress, _ = await update_with_retry(
                kv, key, Progress, visit, first=(current, revision)
            )
        except (BusUnavailable, Conflict):
            # The event is stored (acked) and plugins will see it; the visitor gets a
            # 503. Write the progress in the background so that it follows the event
            # even if the visitor never retries; a retry converges to the same result
            # (same event id, de-duplicated; ``visit`` counts the scan once).
            self._write_progress_later(key, visit, event.id)
            raise
        self._metrics.inc("promtour_scans_total")
        return CheckIn(progress=progress, repeat=count > 0, event_id=event.id)

    def _write_progress_later(
        self, key: str, change: Callable[[Progress | None], Progress], event_id: str
    ) -> None:
        async def write() -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + PROGRESS_RETRY_FOR
            delay = PROGRESS_RETRY_FIRST
            while True:
                await asyncio.sleep(delay)
                try:
                    kv = await self._bus.bucket(BUCKET_PROGRESS)
                    await update_with_retry(kv, key, Progress, change)
                except Exception as exc:  # NATS away, or anything else: try again
                    if loop.time() + delay > deadline:
                        log.error(
                            "progress of check-in %s (%s) not written: %s", event_id, key, exc
                        )
                        return
                    delay = min(delay * 2, PROGRESS_RETRY_MAX)
                    continue
                log.info("progress of check-in %s (%s) written after a failure", event_id, key)
                return

        task = asyncio.get_running_loop().create_task(write(), name=f"progress-{event_id}")
        self._progress_writes.add(task)
        task.add_done_callback(self._progress_writes.discard)

    async def finish(self, state: TourState, progress: Progress) -> Progress:
        """Mark the tour finished for a visitor; the first time, publish TourFinished."""
        if progress.finished is not None:
            return progress
        tour = state.tour
        key = self.progress_key(tour, progress.visitor)
        await self._bus.publish(
            TourFinished(
                id=uuid.uuid5(_CHECKIN_NS, f"{key}:finished").hex,
                enterprise=tour.enterprise,
                tour=tour.id,
                visitor=progress.visitor,
                group=progress.group,
                stations_visited=len(progress.visited),
            )
        )

        def done(current: Progress | None) -> Progress:
            current = current or progress
            current.finished = current.finished or utcnow()
            return current

        kv = await self._bus.bucket(BUCKET_PROGRESS)
        finished, _ = await update_with_retry(kv, key, Progress, done)
        return finished

    async def join_group(self, state: TourState, visitor: str, group: str) -> Progress:
        tour = state.tour
        kv = await self._bus.bucket(BUCKET_PROGRESS)

        def join(progress: Progress | None) -> Progress:
            progress = progress or Progress(visitor=visitor, tour=tour.key)
            progress.group = group
            return progress

        progress, _ = await update_with_retry(kv, self.progress_key(tour, visitor), Progress, join)
        await self._bus.publish(
            VisitorJoinedGroup(
                enterprise=tour.enterprise, tour=tour.id, visitor=visitor, group=group
            )
        )
        return progress
