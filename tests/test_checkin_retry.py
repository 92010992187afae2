"""Defect 10: a scan whose event was stored (acked) but whose progress write failed.

The visitor saw a 503, yet the event is in the stream. The progress must follow: the
platform writes it in the background, and a retried scan stores no second event and
counts the visit once.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import promtour._visits
import pytest
from promtour._bus import BusUnavailable
from promtour._events import VisitorCheckedIn
from promtour.testing import read_events, unique


@pytest.fixture
def progress_write_fails_once(monkeypatch):
    """The next progress write of a check-in fails as if NATS had just gone away."""
    real = promtour._visits.update_with_retry
    failures = {"left": 1}

    async def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise BusUnavailable("nats: connection closed (injected)")
        return await real(*args, **kwargs)

    monkeypatch.setattr(promtour._visits, "update_with_retry", flaky)
    return failures


async def _events(bus, tour, visitor: str) -> list[VisitorCheckedIn]:
    stored = await read_events(bus, tour, "visitor_checked_in")
    events = [msgspec.json.decode(data, type=VisitorCheckedIn) for data in stored]
    return [e for e in events if e.visitor == visitor]


async def _until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def _world(make_platform, new_tour):
    """A platform without consumers or plugins, a new tour, its state and a visitor."""
    platform = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(platform, plugins={})
    return platform, tour, await platform.tours.get(tour.key), unique("v")


async def test_event_stored_progress_failed_is_repaired_without_a_retry(
    make_platform, new_tour, bus, progress_write_fails_once
):
    platform, tour, state, visitor = await _world(make_platform, new_tour)

    with pytest.raises(BusUnavailable):
        await platform.visits.check_in(state, tour.stations[0], visitor, lang="en")
    # The visitor was told "try again", but the event is stored.
    assert [e.station for e in await _events(bus, tour, visitor)] == ["s1"]

    # The visitor never retries: the progress follows the event all the same.
    progress = await _until(lambda: platform.visits.progress(tour, visitor))
    assert progress is not None, "the stored check-in's progress was never written"
    assert progress.visited == ["s1"] and progress.scans == {"s1": 1}


async def test_retried_scan_stores_one_event_and_counts_once(
    make_platform, new_tour, bus, progress_write_fails_once
):
    platform, tour, state, visitor = await _world(make_platform, new_tour)

    with pytest.raises(BusUnavailable):
        await platform.visits.check_in(state, tour.stations[1], visitor, lang="en")
    # The visitor retries at once, before the background write.
    retry = await platform.visits.check_in(state, tour.stations[1], visitor, lang="en")
    assert retry.progress.visited == ["s2"]
    await asyncio.sleep(1.5)  # the background write has run by now

    events = await _events(bus, tour, visitor)
    assert len(events) == 1 and events[0].id == retry.event_id
    progress = await platform.visits.progress(tour, visitor)
    assert progress is not None
    assert progress.visited == ["s2"] and progress.scans == {"s2": 1}
