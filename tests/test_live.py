"""Server-Sent Events follow the stream; Last-Event-ID resumes after the last event."""

from __future__ import annotations

import asyncio

import httpx
from litestar import get
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from promtour.plugin import PT, Event, PluginInfo, SseMessage, event_stream, hookimpl, subject_for
from promtour.testing import station_path


@get("/{enterprise:str}/{tour_id:str}/stream")
async def stream(pt: PT, enterprise: FromPath[str], tour_id: FromPath[str]) -> ServerSentEvent:
    await pt.tour(enterprise, tour_id)

    def to_message(seq: int, event: Event) -> SseMessage:
        return SseMessage(event=event.type, data={"station": event.station})

    subject = subject_for(enterprise, tour_id, ">")
    return event_stream(pt, subject, to_message)


class LivePlugin:
    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="live_probe", title={"en": "Live"}, routes=[stream])


async def read_events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        field, _, value = line.partition(":")
        if field:
            current[field] = value.strip()
    return events


async def test_live_events_and_resume(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False, plugins=[("live_probe", LivePlugin())])
    tour = await new_tour(setup, plugins={"live_probe": {}})
    server = serve_app(plugins=[("live_probe", LivePlugin())])
    stream_url = f"{server.url}/p/live_probe/{tour.enterprise}/{tour.id}/stream"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        async with client.stream("GET", stream_url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_events(response, 2))
            await asyncio.sleep(0.3)
            await client.get(station_path(tour, "s1"))
            await client.get(station_path(tour, "s2"))
            first, second = await asyncio.wait_for(reader, 10)
        assert first["event"] == "visitor_checked_in" and '"s1"' in first["data"]
        assert int(second["id"]) > int(first["id"])
        # Reconnect with Last-Event-ID: only what came after the first event.
        async with client.stream(
            "GET", stream_url, headers={"Last-Event-ID": first["id"]}
        ) as response:
            (again,) = await asyncio.wait_for(read_events(response, 1), 10)
        assert again["id"] == second["id"] and '"s2"' in again["data"]
