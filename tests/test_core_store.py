"""The plugin store's primitives against a real nats-server: versions, TTL, erasure,
expiry by erasure of personal records."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
import pytest
from promtour._bus import Bus, Conflict
from promtour._embedded import EmbeddedNats
from promtour._expiry import ExpirySweeper
from promtour._store import EXPIRY_PREFIX, PluginStore
from promtour.testing import unique


class Note(msgspec.Struct):
    text: str
    n: int = 0


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@asynccontextmanager
async def own_server(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedNats, Bus]]:
    """A nats-server of the test's own (the test reads its files) and a bus on it."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        bus = Bus(server.url)
        await bus.connect()
        yield server, bus
        await bus.close()
    finally:
        server.stop()


def assert_gone_from_files(tmp_path: Path, server: EmbeddedNats, secret: bytes) -> None:
    """The bytes are in none of the server's files, also after it restarts."""
    assert files_containing(tmp_path, secret) == []
    server = EmbeddedNats(tmp_path / "nats", port=server.port)
    server.start()
    try:
        assert files_containing(tmp_path, secret) == []
    finally:
        server.stop()


async def test_erased_record_is_gone_from_the_server_files(tmp_path: Path) -> None:
    """Erasure is not a hidden read: the bytes are gone from every file of the store,
    also after the server restarts (JetStream keeps purged messages in its block files
    until they are compacted; the store overwrites them first)."""
    secret = f"Ivanova-{unique('x')}@example.org".encode()
    async with own_server(tmp_path) as (server, bus):
        store = PluginStore(bus, unique("p").replace("-", "_"))
        # Personal data is written once (create) and erased, never overwritten: a version
        # that the bucket's history limit drops is removed without being overwritten.
        assert await store.create("lead.a", Note(text=secret.decode()), ttl=3600)
        await store.put("lead.b", Note(text="keep me"))
        assert files_containing(tmp_path, secret), "the test needs the bytes on disk first"
        assert await store.erase("lead.a") is True
        assert await store.get("lead.a", Note) is None
        assert await store.get("lead.b", Note) == Note(text="keep me")
    assert_gone_from_files(tmp_path, server, secret)


async def wait_until_gone(store: PluginStore, key: str, timeout: float = 8.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if await store.get(key, Note) is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} still readable after {timeout}s")


async def index_keys(bus: Bus, store: PluginStore) -> list[str]:
    """The expiry index of the store's bucket (PluginStore.keys() does not list it)."""
    return await bus.keys(store.name, EXPIRY_PREFIX)


async def test_personal_record_expires_by_erasure(tmp_path: Path) -> None:
    """A personal record with a TTL is erased when it expires (its bytes overwritten),
    not dropped by the server with its bytes left in the block file; a record that is
    not personal expires as before (the server removes it, no index)."""
    secret = f"Petrova-{unique('x')}@example.org".encode()
    async with own_server(tmp_path) as (server, bus):
        plugin = unique("p").replace("-", "_")
        store = PluginStore(bus, plugin)
        tour = store.for_tour("ent.tour")  # booking contacts live in a tour's view
        assert await tour.create("contact.b1", Note(text=secret.decode()), ttl=2, personal=True)
        assert await store.create("plain", Note(text="not personal"), ttl=2)
        await store.put("keep", Note(text="keep me"))
        assert files_containing(tmp_path, secret), "the test needs the bytes on disk first"
        assert len(await index_keys(bus, store)) == 1  # the personal record only
        assert await store.keys() == ["keep", "plain", "tour.ent.tour.contact.b1"]
        assert await tour.get("contact.b1", Note) == Note(text=secret.decode())

        sweeper = ExpirySweeper(bus, interval=0.2)
        sweeper.start()
        try:
            await wait_until_gone(store, "plain")  # the server's TTL, as before
            await wait_until_gone(tour, "contact.b1")
            for _ in range(20):  # the index entry goes after the erasure
                if not await index_keys(bus, store):
                    break
                await asyncio.sleep(0.1)
            assert await index_keys(bus, store) == []
        finally:
            await sweeper.stop()
        assert await store.get("keep", Note) == Note(text="keep me")
    assert_gone_from_files(tmp_path, server, secret)


async def test_the_sweep_erases_due_records_and_only_the_indexed_version(bus: Bus) -> None:
    """Not before the record's time; and a record written again under the key after
    an erasure (here not personal) is not the one the index entry was for."""
    store = PluginStore(bus, unique("p").replace("-", "_"))
    with pytest.raises(ValueError):
        await store.create("x", Note(text="a"), personal=True)  # when to erase it?
    now = time.time()
    assert await store.create("lead.1", Note(text="a"), ttl=30, personal=True)
    assert await store.erase_due(now) == 0  # not due yet
    assert await store.get("lead.1", Note) == Note(text="a")
    assert await store.erase("lead.1")  # erased early (by the visitor) ...
    assert await store.create("lead.1", Note(text="b"), ttl=3600)  # ... and written again
    assert await store.create("lead.2", Note(text="c"), ttl=30, personal=True)
    assert await store.erase_due(now + 60) == 2
    assert await store.get("lead.1", Note) == Note(text="b")
    assert await store.get("lead.2", Note) is None
    assert await index_keys(bus, store) == []


async def test_the_platform_sweeps_personal_records(make_platform, nats_url: str) -> None:
    """The sweeper runs with the platform (its interval a setting)."""
    platform = await make_platform(
        entrypoints=False, nats={"url": nats_url, "expiry_sweep_seconds": 0.2}
    )
    store = platform.store_for(unique("p").replace("-", "_"))
    assert await store.create("lead.1", Note(text="x"), ttl=1, personal=True)
    await wait_until_gone(store, "lead.1", timeout=5)
    assert await index_keys(platform.bus, store) == []


async def test_versions_ttl_and_tour_scope(bus: Bus) -> None:
    store = PluginStore(bus, unique("p").replace("-", "_"))
    first = await store.read("k", Note)
    assert (first.value, first.revision) == (None, None)
    revision = await store.replace("k", Note(text="a"), None)
    with pytest.raises(Conflict):
        await store.replace("k", Note(text="b"), None)  # someone wrote it meanwhile
    await store.replace("k", Note(text="b"), revision)
    assert await store.get("k", Note) == Note(text="b")

    async def bump(note: Note | None) -> Note:
        return Note(text="b", n=(note.n if note else 0) + 1)

    await asyncio.gather(*(store.update("k", Note, bump) for _ in range(20)))
    assert (await store.get("k", Note)) == Note(text="b", n=20)

    await store.put("brief", Note(text="gone soon"), ttl=1)
    # A record with a TTL is rewritten in place (a heartbeat), not only created.
    await store.put("brief", Note(text="gone soon", n=2), ttl=1)
    assert await store.get("brief", Note) == Note(text="gone soon", n=2)
    for _ in range(40):
        if await store.get("brief", Note) is None:
            break
        await asyncio.sleep(0.1)
    assert await store.get("brief", Note) is None

    tour = store.for_tour("ent.tour")
    await tour.put("v.1", Note(text="x"))
    await tour.put("v.2", Note(text="y"))
    assert await tour.keys() == ["v.1", "v.2"]
    assert "tour.ent.tour.v.1" in await store.keys("tour.")
    assert await tour.erase_all() == 2
    assert await tour.keys() == []
    assert await store.get("k", Note) is not None
