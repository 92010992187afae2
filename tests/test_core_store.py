"""The plugin store's primitives against a real nats-server: versions, TTL, erasure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest
from promtour.bus import Bus, Conflict
from promtour.embedded import EmbeddedNats
from promtour.store import PluginStore
from promtour.testing import unique


class Note(msgspec.Struct):
    text: str
    n: int = 0


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_erased_record_is_gone_from_the_server_files(tmp_path: Path) -> None:
    """Erasure is not a hidden read: the bytes are gone from every file of the store,
    also after the server restarts (JetStream keeps purged messages in its block files
    until they are compacted; the store overwrites them first)."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    secret = f"Ivanova-{unique('x')}@example.org".encode()
    try:
        bus = Bus(server.url)
        await bus.connect()
        store = PluginStore(bus, unique("p").replace("-", "_"))
        # Personal data is written once (create) and erased, never overwritten: a version
        # that the bucket's history limit drops is removed without being overwritten.
        assert await store.create("lead.a", Note(text=secret.decode()), ttl=3600)
        await store.put("lead.b", Note(text="keep me"))
        assert files_containing(tmp_path, secret), "the test needs the bytes on disk first"
        assert await store.erase("lead.a") is True
        assert await store.get("lead.a", Note) is None
        assert await store.get("lead.b", Note) == Note(text="keep me")
        await bus.close()
    finally:
        server.stop()
    assert files_containing(tmp_path, secret) == []
    server = EmbeddedNats(tmp_path / "nats", port=server.port)
    server.start()
    try:
        assert files_containing(tmp_path, secret) == []
    finally:
        server.stop()


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
