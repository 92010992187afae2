"""Replayed offline check-ins (the server side of docs/visitors.md#offline): stored once
with their original time, also after JetStream's de-duplication window; refused when
too old, from the future or with a bad id.

How "after the window" is tested: the events stream's ``duplicate_window`` is lowered
to one second for the test (and put back after), so the replay really comes after
JetStream has forgotten the message id; the visitor also re-scans the station online
in between, so that the double-scan rule cannot hide a second copy either. Only the
idempotency record in KV stands between the replay and a duplicate event.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour._models import Progress
from promtour._tokens import sign_station
from promtour.testing import station_path


async def _events(bus, tour) -> list[VisitorCheckedIn]:
    subject = subject_for(tour.enterprise, tour.id, "visitor_checked_in")
    sub = await bus.js.subscribe(subject, stream=STREAM, ordered_consumer=True)
    found = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except Exception:
                break
            found.append(msgspec.json.decode(msg.data, type=VisitorCheckedIn))
    finally:
        await sub.unsubscribe()
    return found


def _replay(client: httpx.AsyncClient, tour, station: str, action: str, when: datetime):
    return client.post(
        "/api/v1/visitor/check-ins",
        json={"code": sign_station(tour, station)},
        headers={"Idempotency-Key": action, "X-Promtour-Action-Time": when.isoformat()},
    )


async def test_a_replayed_check_in_is_stored_once_with_its_time(
    make_platform, serve_app, new_tour, bus
):
    setup = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(setup, plugins={})
    server = serve_app(entrypoints=False)
    scanned = datetime.now(UTC) - timedelta(hours=2)
    action = secrets.token_hex(16)
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.get(f"/t/{tour.enterprise}/{tour.id}")  # the visitor's cookie
        first = await _replay(client, tour, "s2", action, scanned)
        assert first.status_code == 201, first.text
        again = await _replay(client, tour, "s2", action, scanned)
        assert again.status_code == 200 and again.json()["replayed"] is True
        url = f"/api/v1/visitor/tours/{tour.enterprise}/{tour.id}/progress"
        progress = msgspec.convert((await client.get(url)).json(), Progress)
    events = await _events(bus, tour)
    assert [e.station for e in events] == ["s2"]
    assert abs((events[0].time - scanned).total_seconds()) < 0.001, "the original scan time"
    assert progress.visited == ["s2"] and progress.scans == {"s2": 1}
    assert abs((progress.started - scanned).total_seconds()) < 0.001


async def test_a_replay_after_the_deduplication_window_adds_nothing(
    make_platform, serve_app, new_tour, bus
):
    setup = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(setup, plugins={})
    server = serve_app(entrypoints=False)
    config = (await bus.js.stream_info(STREAM)).config
    await bus.js.update_stream(dataclasses.replace(config, duplicate_window=1.0))
    try:
        scanned = datetime.now(UTC) - timedelta(hours=3)
        action = secrets.token_hex(16)
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.get(f"/t/{tour.enterprise}/{tour.id}")
            assert (await _replay(client, tour, "s1", action, scanned)).status_code == 201
            # Back at the station, online: a re-scan of its own (a second event).
            assert (await client.get(station_path(tour, "s1"))).status_code == 200
            await asyncio.sleep(1.5)  # JetStream has forgotten the replay's message id
            late = await _replay(client, tour, "s1", action, scanned)
            assert late.status_code == 200 and late.json()["replayed"] is True
    finally:
        await bus.js.update_stream(config)
    events = await _events(bus, tour)
    assert len(events) == 2, [(e.id, e.time) for e in events]
    assert sorted(e.repeat for e in events) == [False, True]


async def test_replays_out_of_bounds_are_refused(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(setup, plugins={})
    server = serve_app(entrypoints=False, web={"offline_replay_hours": 12})
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=server.url) as client:
        # No visitor cookie: a queued action belongs to the phone that made it.
        orphan = await _replay(client, tour, "s1", secrets.token_hex(16), now)
        assert orphan.status_code == 403
        await client.get(f"/t/{tour.enterprise}/{tour.id}")
        old = await _replay(client, tour, "s1", secrets.token_hex(16), now - timedelta(hours=13))
        assert old.status_code == 422 and "too old" in old.json()["detail"]
        future = await _replay(client, tour, "s1", secrets.token_hex(16), now + timedelta(hours=1))
        assert future.status_code == 422 and "future" in future.json()["detail"]
        bad_id = await _replay(client, tour, "s1", "not-an-id", now)
        assert bad_id.status_code == 422
        forged = await client.post(
            "/api/v1/visitor/check-ins",
            json={"code": sign_station(tour, "s1")[:-3] + "AAA"},
            headers={"Idempotency-Key": secrets.token_hex(16)},
        )
        assert forged.status_code == 400
    assert await _events(bus, tour) == []
