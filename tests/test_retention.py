"""Storage bounds: the events stream keeps events for a configured time and size, and
visitors' progress expires a configured time after its last change. The limits are
read back from the server, and a changed setting updates an existing stream."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from promtour._bus import BUCKET_PROGRESS, DEFAULT_EVENTS_MAX_BYTES
from promtour._embedded import EmbeddedNats
from promtour._events import STREAM, VisitorJoinedGroup
from promtour._settings import DAY, load_settings
from promtour.testing import station_path

PROGRESS_STREAM = f"KV_{BUCKET_PROGRESS}"


async def limits(platform) -> tuple[float, int, float]:
    events = await platform.bus.js.stream_info(STREAM)
    progress = await platform.bus.js.stream_info(PROGRESS_STREAM)
    return events.config.max_age, events.config.max_bytes, progress.config.max_age


async def test_defaults_are_documented_and_applied(own_nats, make_platform):
    defaults = load_settings(environ={}).nats
    assert (defaults.events_max_age_days, defaults.progress_ttl_days) == (400, 180)
    assert defaults.events_max_bytes == DEFAULT_EVENTS_MAX_BYTES == 2 * 1024**3
    platform = await make_platform(consumers=False, entrypoints=False, nats={"url": own_nats.url})
    assert await limits(platform) == (400 * DAY, 2 * 1024**3, 180 * DAY)


async def test_changed_settings_update_the_existing_stream_and_bucket(own_nats, make_platform):
    def nats(**limits: float) -> dict[str, object]:
        return {"url": own_nats.url, **limits}

    first = await make_platform(
        consumers=False,
        entrypoints=False,
        nats=nats(events_max_age_days=30, events_max_bytes=64 * 1024**2, progress_ttl_days=7),
    )
    assert await limits(first) == (30 * DAY, 64 * 1024**2, 7 * DAY)
    for visitor in ("v1", "v2"):  # some events in the stream
        await first.bus.publish(
            VisitorJoinedGroup(enterprise="e", tour="t", visitor=visitor, group="g")
        )
    stored = (await first.bus.js.stream_info(STREAM)).state.messages
    assert stored == 2
    await first.stop()

    # Restarted with other limits: the same stream and bucket, now with those limits.
    second = await make_platform(
        consumers=False,
        entrypoints=False,
        nats=nats(events_max_age_days=90.5, events_max_bytes=128 * 1024**2, progress_ttl_days=30),
    )
    assert await limits(second) == (90.5 * DAY, 128 * 1024**2, 30 * DAY)
    assert (await second.bus.js.stream_info(STREAM)).state.messages == stored
    await second.stop()

    # 0 lifts a limit.
    third = await make_platform(
        consumers=False,
        entrypoints=False,
        nats=nats(events_max_age_days=0, events_max_bytes=0, progress_ttl_days=0),
    )
    assert await limits(third) == (0, -1, 0)


async def test_progress_expires_after_its_last_change(own_nats, make_platform, serve_app, new_tour):
    ttl = 2.0
    settings = {"nats": {"url": own_nats.url, "progress_ttl_days": ttl / DAY}}
    setup = await make_platform(consumers=False, entrypoints=False, **settings)
    tour = await new_tour(setup, plugins={})
    server = serve_app(entrypoints=False, **settings)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get(station_path(tour, "s1"))).status_code == 200
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
        await asyncio.sleep(ttl * 0.6)
        # A change restarts the clock.
        assert (await client.get(station_path(tour, "s2"))).status_code == 200
        await asyncio.sleep(ttl * 0.6)
        progress = await setup.visits.progress(tour, visitor)
        assert progress is not None and progress.visited == ["s1", "s2"]
        await asyncio.sleep(ttl * 0.8)
    assert await setup.visits.progress(tour, visitor) is None


def test_a_size_cap_nats_cannot_reserve_is_a_clear_error(tmp_path):
    from promtour._errors import PromtourError
    from promtour._platform import Platform

    async def start() -> None:
        with EmbeddedNats(tmp_path / "nats") as server:
            settings = load_settings(
                environ={}, nats={"url": server.url, "events_max_bytes": 1024**5}
            )
            platform = Platform(settings)
            try:
                await platform.start(consumers=False)
            finally:
                await platform.bus.close()

    with pytest.raises(PromtourError, match=r"nats\.events_max_bytes"):
        asyncio.run(start())
