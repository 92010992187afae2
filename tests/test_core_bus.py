"""The bus stores a retried event once; concurrent scans by one visitor lose no visit."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from promtour._bus import BUCKET_PROGRESS, update_with_retry
from promtour._events import STREAM, VisitorCheckedIn, subject_for
from promtour._models import Progress
from promtour.testing import station_path, unique


async def test_retried_publish_with_same_id_is_stored_once(bus):
    enterprise, tour = unique("ent"), unique("tour")
    event = VisitorCheckedIn(enterprise=enterprise, tour=tour, station="s1", visitor="v1")
    first = await bus.publish(event)
    again = await bus.publish(event)  # a retry after a lost ack
    assert again == first  # the stream answers with the stored sequence
    other = await bus.publish(event.with_(id="another-id"))
    assert other > first
    subject = subject_for(enterprise, tour, "visitor_checked_in")
    info = await bus.js.stream_info(STREAM, subjects_filter=subject)
    assert info.state.subjects == {subject: 2}


async def test_concurrent_updates_lose_nothing(bus):
    kv = await bus.bucket(BUCKET_PROGRESS)
    key = f"{unique('ent')}.{unique('tour')}.v1"

    def add(station: str):
        def change(progress: Progress | None) -> Progress:
            progress = progress or Progress(visitor="v1", tour="t")
            progress.visited.append(station)
            return progress

        return change

    stations = [f"s{i}" for i in range(30)]
    await asyncio.gather(
        *(update_with_retry(kv, key, Progress, add(station)) for station in stations)
    )
    entry = await kv.get(key)
    stored = msgspec.json.decode(entry.value, type=Progress)
    assert sorted(stored.visited) == sorted(stations)


async def test_fifty_concurrent_scans_by_one_visitor(make_platform, serve_app, new_tour, bus):
    setup = await make_platform(consumers=False)
    tour = await new_tour(setup, plugins={"quests": {}}, stations=50)
    server = serve_app()
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        first = await client.get(f"/t/{tour.enterprise}/{tour.id}")  # the visitor's cookie
        assert first.status_code == 200 and "pt_v" in client.cookies
        responses = await asyncio.gather(
            *(client.get(station_path(tour, f"s{i}")) for i in range(1, 51))
        )
        assert [r.status_code for r in responses] == [200] * 50
        visitor = client.cookies["pt_v"].rsplit(".", 1)[0]
    progress = await setup.visits.progress(tour, visitor)
    assert progress is not None
    assert sorted(progress.visited) == sorted(f"s{i}" for i in range(1, 51))
    assert progress.scans == {f"s{i}": 1 for i in range(1, 51)}
    subject = subject_for(tour.enterprise, tour.id, "visitor_checked_in")
    info = await bus.js.stream_info(STREAM, subjects_filter=subject)
    assert info.state.subjects == {subject: 50}


async def test_keys_are_complete_while_the_bucket_is_written(bus):
    """nats-py's KeyValue.keys() can return too few keys under concurrent writes;
    Bus.keys must list every live key, and no deleted or purged one."""
    bucket = f"T_KEYS_{unique('b').replace('-', '_').upper()}"
    kv = await bus.bucket(bucket)
    for i in range(150):
        await kv.put(f"a.{i}", b"x")
    await kv.delete("a.1")
    await kv.purge("a.2")
    stop = asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            await kv.put(f"w{n}.{i % 200}", b"y" * 40)
            i += 1

    writers = [asyncio.create_task(writer(n)) for n in range(3)]
    try:
        for _ in range(15):
            keys = await bus.keys(bucket, "a.")
            assert len(keys) == 148 and "a.1" not in keys and "a.2" not in keys
    finally:
        stop.set()
        await asyncio.gather(*writers)
    await bus.js.delete_key_value(bucket)


async def test_buckets_are_read_from_the_leader_with_the_cheaper_reads(bus):
    """A bucket the core creates has no direct gets: its reads are answered by the
    stream's leader (never an older value from a follower) and take promtour._kv's
    cheaper path (FastGetKeyValue), not nats-py's direct-get code."""
    from nats.js.kv import KeyValue

    name = unique("PERF").upper().replace("-", "_")
    kv = await bus.bucket(name)
    info = await bus.js.stream_info(f"KV_{name}")
    assert info.config.allow_direct is False
    await kv.put("k", b"v")
    calls = []
    slow = KeyValue._get

    async def spy(self, key, revision=None):
        calls.append(key)
        return await slow(self, key, revision)

    KeyValue._get = spy
    try:
        assert (await kv.get("k")).value == b"v"
    finally:
        KeyValue._get = slow
    assert calls == []  # served by FastGetKeyValue's own request
