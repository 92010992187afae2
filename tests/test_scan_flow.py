"""The scan flow end to end: HTTP request, event in the stream, progress in KV, panels."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from promtour._bus import BUCKET_PROGRESS
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour._models import Progress
from promtour.testing import station_path


async def test_scan_records_event_progress_and_panels(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"quests": {}, "career": {}})
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(station_path(tour, "s2"))
        assert response.status_code == 200
        html = response.text
        assert 'data-plugin="quests"' in html and 'data-plugin="career"' in html
        assert 'data-plugin="audio_guide"' not in html  # not enabled for this tour
        assert "Station 2" in html or "Станция 2" in html
        visitor_cookie = client.cookies.get("pt_v")
        assert visitor_cookie
    visitor = visitor_cookie.rsplit(".", 1)[0]

    # The event is in the stream, on the tour's subject, with the full envelope.
    subject = subject_for(tour.enterprise, tour.id, "visitor_checked_in")
    msg = await bus.js.get_last_msg(STREAM, subject)
    event = msgspec.json.decode(msg.data, type=VisitorCheckedIn)
    assert event.enterprise == tour.enterprise and event.tour == tour.id
    assert event.station == "s2" and event.visitor == visitor and event.v == 1
    assert event.time.tzinfo is not None and event.id
    assert msg.headers and msg.headers.get("Nats-Msg-Id") == event.id

    # The progress is in KV.
    kv = await bus.bucket(BUCKET_PROGRESS)
    entry = await kv.get(f"{tour.key}.{visitor}")
    progress = msgspec.json.decode(entry.value, type=Progress)
    assert progress.visited == ["s2"]


async def test_double_scan_is_one_visit_and_one_event(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={})
    server = serve_app()
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.get("/healthz")  # get a visitor cookie first
        first = await client.get(station_path(tour, "s1"))
        assert first.status_code == 200
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
        # A double tap: two concurrent requests for the same station.
        await asyncio.gather(*(client.get(station_path(tour, "s3")) for _ in range(2)))
    progress = await setup.visits.progress(tour, visitor)
    assert progress is not None
    assert progress.visited == ["s1", "s3"]
    subject = subject_for(tour.enterprise, tour.id, "visitor_checked_in")
    info = await bus.js.stream_info(STREAM, subjects_filter=subject)
    assert info.state.subjects == {subject: 2}
