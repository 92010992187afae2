"""Live pages for thousands of phones: one shared subscription per process and subject,
not a JetStream consumer per page (issue 10, defect 1)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from litestar import get
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from polling import eventually
from promtour import hookimpl
from promtour._events import STREAM, Event, VisitorJoinedGroup, subject_for
from promtour._web.request import PT
from promtour._web.sse import SseMessage, event_stream
from promtour.plugin import PluginInfo
from promtour.testing import SseClient, station_path


@get("/{enterprise:str}/{tour_id:str}/stream")
async def stream(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    await pt.tour(enterprise, tour_id)

    def to_message(seq: int, event: Event) -> SseMessage:
        return SseMessage(event=event.type, data={"station": event.station})

    return event_stream(pt, subject_for(enterprise, tour_id, ">"), to_message)


class LivePlugin:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="live_scale", title={"en": "Live"}, routes=[stream])


async def open_streams(url: str, path: str, count: int) -> list[SseClient]:
    limit = asyncio.Semaphore(100)

    async def one() -> SseClient:
        async with limit:
            return await SseClient.open(url, path)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def consumers_on(bus, tour) -> int:
    """Consumers on the events stream that read this tour's events."""
    prefix = subject_for(tour.enterprise, tour.id, "")
    infos = await bus.js.consumers_info(STREAM)
    return sum(
        1
        for info in infos
        if any(
            s.startswith(prefix)
            for s in [info.config.filter_subject or "", *(info.config.filter_subjects or [])]
        )
    )


async def setup_app(make_platform, serve_app, new_tour):
    setup = await make_platform(
        consumers=False, entrypoints=False, plugins=[("live_scale", LivePlugin())]
    )
    tour = await new_tour(setup, plugins={"live_scale": {}})
    server = serve_app(entrypoints=False, plugins=[("live_scale", LivePlugin())])
    return tour, server, f"/p/live_scale/{tour.enterprise}/{tour.id}/stream"


@pytest.mark.timeout(120)
async def test_1500_streams_on_one_process_all_get_the_event(
    make_platform, serve_app, new_tour, bus
):
    tour, server, path = await setup_app(make_platform, serve_app, new_tour)
    clients = await open_streams(server.url, path, 1500)
    try:
        await eventually(lambda: server.platform.live.listeners == 1500)
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as visitor:
            assert (await visitor.get(station_path(tour, "s2"))).status_code == 200
        started = time.monotonic()
        received = await asyncio.wait_for(asyncio.gather(*(c.event() for c in clients)), timeout=30)
        elapsed = time.monotonic() - started
        assert all(e["event"] == "visitor_checked_in" for e in received)
        assert all('"s2"' in e["data"] for e in received)
        assert len({e["id"] for e in received}) == 1  # the same stream sequence for all
        print(f"1500 streams: the event reached the last one after {elapsed * 1000:.0f} ms")
    finally:
        for client in clients:
            client.close()


async def test_open_streams_share_one_consumer_closed_after_the_last(
    make_platform, serve_app, new_tour, bus
):
    tour, server, path = await setup_app(make_platform, serve_app, new_tour)
    server.platform.live.idle_close = 0.2
    clients = await open_streams(server.url, path, 200)
    try:
        await eventually(lambda: server.platform.live.listeners == 200)
        assert await consumers_on(bus, tour) == 1
        assert (await bus.js.stream_info(STREAM)).state.consumer_count < 150
    finally:
        for client in clients:
            client.close()
    await eventually(lambda: server.platform.live.listeners == 0)
    deadline = time.monotonic() + 10
    while await consumers_on(bus, tour):
        assert time.monotonic() < deadline, "the shared consumer outlived its last page"
        await asyncio.sleep(0.1)


def joined(tour, n: int) -> VisitorJoinedGroup:
    return VisitorJoinedGroup(enterprise=tour.enterprise, tour=tour.id, visitor=f"v{n}", group="g")


async def test_resume_from_the_stream_then_live_without_gap_or_duplicate(make_platform, new_tour):
    platform = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(platform)
    subject = subject_for(tour.enterprise, tour.id, ">")
    seqs = [await platform.bus.publish(joined(tour, n)) for n in range(3)]
    # The feed remembers nothing from before it started: the backlog comes from the stream.
    platform.live.replay_seconds = 0
    first = await platform.live.listen(subject)
    resumed = await platform.live.listen(subject, after=seqs[0])
    live = await platform.bus.publish(joined(tour, 3))
    got = [await resumed.next(5) for _ in range(3)]
    assert [(item[0], item[2].visitor) for item in got if item] == [
        (seqs[1], "v1"),
        (seqs[2], "v2"),
        (live, "v3"),
    ]
    assert await resumed.next(0.3) is None  # nothing twice
    item = await first.next(5)
    assert item is not None and item[0] == live
    assert len(platform.live.feeds) == 1


async def test_a_slow_page_is_dropped_not_the_others(make_platform, new_tour):
    platform = await make_platform(consumers=False, entrypoints=False)
    tour = await new_tour(platform)
    subject = subject_for(tour.enterprise, tour.id, ">")
    slow = await platform.live.listen(subject)
    fast = await platform.live.listen(subject)
    from promtour._live import QUEUE_LIMIT

    total = QUEUE_LIMIT + 10

    async def read_fast() -> int:
        received = 0
        while received < total and await fast.next(5) is not None:
            received += 1
        return received

    reader = asyncio.create_task(read_fast())
    for n in range(total):
        await platform.bus.publish(joined(tour, n))
    assert await reader == total  # the page that keeps up gets every event
    assert slow.dropped and slow.closed
    with pytest.raises(EOFError):
        while True:
            await slow.next(1)


@pytest.mark.timeout(60)
async def test_live_feed_resumes_after_a_nats_restart(own_nats, make_platform, new_tour):
    platform = await make_platform(consumers=False, entrypoints=False, nats={"url": own_nats.url})
    tour = await new_tour(platform)
    subject = subject_for(tour.enterprise, tour.id, ">")
    listener = await platform.live.listen(subject)
    await platform.bus.publish(joined(tour, 0))
    assert (await listener.next(5))[2].visitor == "v0"
    own_nats.stop()
    own_nats.start()
    await eventually(lambda: platform.bus.connected)
    deadline = time.monotonic() + 20
    while True:  # publishing fails until JetStream is back
        try:
            await platform.bus.publish(joined(tour, 1))
            break
        except Exception:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
    item = await listener.next(10)
    assert item is not None and item[2].visitor == "v1"
