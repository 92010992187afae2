"""NATS goes away and comes back: scans get a clear 503 and write nothing meanwhile,
and the app, its plugin consumers and its tour cache reconnect by themselves."""

from __future__ import annotations

import httpx
import msgspec
from polling import eventually
from promtour import hookimpl
from promtour._bus import Bus
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour.plugin import PluginInfo
from promtour.testing import station_path, unique


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.handled: list[str] = []

    @hookimpl
    def promtour_plugin_info(self) -> PluginInfo:
        return PluginInfo(name=self.name, version="1", title={"en": self.name})

    @hookimpl
    def promtour_handle_event(self, event, ctx) -> None:
        if isinstance(event, VisitorCheckedIn):
            self.handled.append(event.station)


async def test_scans_while_nats_is_away(own_nats, make_platform, serve_app, new_tour):
    nats = {"url": own_nats.url}
    name = unique("rec")
    recorder = Recorder(name)
    setup = await make_platform(
        consumers=False, entrypoints=False, plugins=[(name, Recorder(name))], nats=nats
    )
    tour = await new_tour(setup, plugins={name: {}}, stations=3)
    await setup.stop()
    server = serve_app(entrypoints=False, plugins=[(name, recorder)], nats=nats)
    checked_in = subject_for(tour.enterprise, tour.id, "visitor_checked_in")

    async with httpx.AsyncClient(
        base_url=server.url, headers={"Accept-Language": "en"}, timeout=15
    ) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get(station_path(tour, "s1"))).status_code == 200
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
        await eventually(lambda: recorder.handled == ["s1"])

        # NATS goes away.
        own_nats.stop()
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert "NATS" in ready.text
        unseen = msgspec.structs.replace(tour, id=unique("unseen"))
        for attempt in (
            client.get(station_path(tour, "s2")),
            client.get(f"/t/{tour.enterprise}/{tour.id}/go", params={"n": "2"}),
            # Whether a tour this process has not seen exists is unknown: not a 404.
            client.get(station_path(unseen, "s1")),
            client.get(f"/media/{tour.enterprise}/{tour.id}/audio/s1.mp3"),
        ):
            response = await attempt
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("text/html")
            assert "please try again" in response.text.lower()
            assert response.headers.get("retry-after")
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready

        # NATS comes back on the same port with the same store.
        own_nats.start()
        await eventually(lambda: _status(client, "/readyz", 200))

        # Nothing was half-written while it was away.
        bus = Bus(own_nats.url)
        await bus.connect(name="outage-check")
        try:
            progress = await _progress(bus, tour.key, visitor)
            assert progress["visited"] == ["s1"]
            info = await bus.js.stream_info(STREAM, subjects_filter=checked_in)
            assert info.state.subjects == {checked_in: 1}

            # Scans work again, and the plugin's consumer picks up where it was.
            response = await client.get(station_path(tour, "s2"))
            assert response.status_code == 200
            assert 'data-visited="2">2</span> / 3' in response.text
            await eventually(lambda: recorder.handled == ["s1", "s2"])
            progress = await _progress(bus, tour.key, visitor)
            assert progress["visited"] == ["s1", "s2"]

            # The tour cache follows changes again: a station closed after the restart
            # is closed for this app too.
            later = await make_platform(
                consumers=False, entrypoints=False, plugins=[(name, Recorder(name))], nats=nats
            )
            state = await later.tours.get(tour.key)
            assert state is not None
            closed = [msgspec.structs.replace(s, enabled=s.id != "s3") for s in state.tour.stations]
            await later.save_tour(
                msgspec.structs.replace(state.tour, stations=closed), media=frozenset()
            )
            await eventually(lambda: _status(client, station_path(tour, "s3"), 410))
            await later.stop()
        finally:
            await bus.close()


async def _status(client: httpx.AsyncClient, path: str, status: int) -> bool:
    try:
        return (await client.get(path)).status_code == status
    except httpx.HTTPError:
        return False


async def _progress(bus: Bus, tour_key: str, visitor: str) -> dict:
    kv = await bus.bucket("PROMTOUR_PROGRESS")
    entry = await kv.get(f"{tour_key}.{visitor}")
    return msgspec.json.decode(entry.value)
