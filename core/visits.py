"""Visits: a visitor's check-ins, group and finish of a tour, and their progress record.

The flow of a scan's write side: the ``visitor_checked_in`` event first (acked by
JetStream), then the progress record in KV with optimistic concurrency. The event id
is derived from the visitor's scan count at the station, so a retried request after a
lost response stores the event once; a second scan of the same station within
:data:`DOUBLE_SCAN_SECONDS` (a double tap, a reload) is the same check-in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from promtour.bus import BUCKET_PROGRESS, Bus, read, update_with_retry
from promtour.events import TourFinished, VisitorCheckedIn, VisitorJoinedGroup
from promtour.metrics import Metrics
from promtour.models import Progress, Station, Tour, utcnow
from promtour.tours import TourState

__all__ = ["DOUBLE_SCAN_SECONDS", "CheckIn", "Visits"]

_progress_decoder = msgspec.json.Decoder(Progress)
_CHECKIN_NS = uuid.UUID("6f1d3c2e-8a4b-4c1e-9a57-3c0de5a1f00d")

#: Seconds within which a second scan of the same station is the same check-in.
DOUBLE_SCAN_SECONDS = 10.0


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

    def progress_key(self, tour: Tour, visitor: str) -> str:
        return f"{tour.key}.{visitor}"

    async def progress(self, tour: Tour, visitor: str) -> Progress | None:
        kv = await self._bus.bucket(BUCKET_PROGRESS)
        value, _ = await read(kv, self.progress_key(tour, visitor), _progress_decoder)
        return value

    async def check_in(
        self, state: TourState, station: Station, visitor: str, *, lang: str, method: str = "qr"
    ) -> CheckIn:
        """Record a visit: the event first (acked), then the progress.

        The event id is derived from the visitor's scan count at this station, so a
        retried request after a lost response stores the event once. A second scan of
        the same station within ``DOUBLE_SCAN_SECONDS`` (a double tap, a reload) is the
        same check-in: no new event, no new count.
        """
        tour = state.tour
        kv = await self._bus.bucket(BUCKET_PROGRESS)
        key = self.progress_key(tour, visitor)
        current, revision = await read(kv, key, _progress_decoder)
        now = utcnow()
        if current is not None and _is_double_scan(current, station.id, now):
            return CheckIn(progress=current, repeat=True, event_id="")
        count = current.scans.get(station.id, 0) if current else 0
        event = VisitorCheckedIn(
            id=uuid.uuid5(_CHECKIN_NS, f"{key}:{station.id}:{count}").hex,
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
            progress = progress or Progress(visitor=visitor, tour=tour.key)
            if station.id not in progress.visited:
                progress.visited.append(station.id)
            # A concurrent duplicate of this same scan already counted it.
            if not _is_double_scan(progress, station.id, now):
                progress.scans[station.id] = progress.scans.get(station.id, 0) + 1
                progress.last_scan[station.id] = now
            return progress

        progress, _ = await update_with_retry(kv, key, Progress, visit, first=(current, revision))
        self._metrics.inc("promtour_scans_total")
        return CheckIn(progress=progress, repeat=count > 0, event_id=event.id)

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
