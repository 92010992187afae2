"""Watched records (``PluginStore.watched``) against a real nats-server: held in the
process, read without a NATS request, and current within a bounded time when another
platform instance (another process in production) changes them."""

from __future__ import annotations

import asyncio
import time

import msgspec
from promtour.testing import unique

#: How long another process's write may take to be seen (it is milliseconds on a
#: healthy connection; a loaded test machine gets room).
BOUND = 2.0


class Note(msgspec.Struct):
    text: str


async def seen(read, expected, bound: float = BOUND) -> float:
    """Seconds until ``await read()`` returns ``expected``; fails after ``bound``."""
    start = time.monotonic()
    while (value := await read()) != expected:
        assert time.monotonic() - start < bound, f"still {value!r} after {bound}s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_another_platforms_changes_are_seen_within_a_bounded_time(make_platform):
    plugin = unique("w").replace("-", "_")
    reader = await make_platform(consumers=False, entrypoints=False)
    writer = await make_platform(consumers=False, entrypoints=False)
    mine, theirs = reader.store_for(plugin), writer.store_for(plugin)
    await theirs.put("note.a", Note("first"))

    watched = mine.watched("note.")
    assert await watched.get("a", Note) == Note("first")  # what was there before
    assert await watched.get("missing", Note) is None
    # Reads come from memory: no message goes to NATS for them.
    sent = reader.bus.nc.stats["out_msgs"]
    for _ in range(20):
        await watched.get("a", Note)
    assert reader.bus.nc.stats["out_msgs"] == sent

    async def note_a() -> Note | None:
        return await watched.get("a", Note)

    await theirs.put("note.a", Note("second"))
    await seen(note_a, Note("second"))
    await theirs.update("note.a", Note, lambda _: Note("third"))
    await seen(note_a, Note("third"))
    await theirs.create("note.b", Note("new key"))
    await seen(lambda: watched.keys(), ["a", "b"])
    await theirs.delete("note.a")
    await seen(note_a, None)
    await theirs.put("other.x", Note("not watched"))
    assert await watched.keys() == ["b"]


async def test_this_platforms_own_writes_are_read_at_once(make_platform):
    plugin = unique("w").replace("-", "_")
    platform = await make_platform(consumers=False, entrypoints=False)
    store = platform.store_for(plugin)
    watched = store.watched("note.")
    assert await watched.get("a", Note) is None
    # No wait between the write and the read: the store hands the write over.
    await store.put("note.a", Note("put"))
    assert await watched.get("a", Note) == Note("put")
    await store.update("note.a", Note, lambda _: Note("updated"))
    assert await watched.get("a", Note) == Note("updated")
    current = await store.read("note.a", Note)
    await store.replace("note.a", Note("replaced"), current.revision)
    assert await watched.get("a", Note) == Note("replaced")
    await store.create("note.b", Note("created"))
    assert await watched.get("b", Note) == Note("created")
    # A tour-scoped store watches its own keys only.
    tour = store.for_tour("ent.tour")
    await tour.put("note.a", Note("the tour's"))
    assert await tour.watched("note.").get("a", Note) == Note("the tour's")
    assert await watched.get("a", Note) == Note("replaced")


async def test_a_platform_that_stops_stops_its_watches(make_platform):
    plugin = unique("w").replace("-", "_")
    platform = await make_platform(consumers=False, entrypoints=False, start=True)
    watched = platform.store_for(plugin).watched("note.")
    await watched.get("a", Note)
    tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith("promtour-watch-")]
    assert tasks
    await platform.stop()
    assert all(t.done() for t in tasks)
    assert not platform.bus.watches


async def test_a_watch_is_ready_only_with_every_current_value(make_platform):
    """A first read waits for the watch's current values. nats-py's own watch could
    say "all there" before any had arrived (its consumer-info shortcut), so a scan
    right after a start missed the route index; with many keys and watches started
    at once, every watch must hold all the keys when it is ready."""
    from promtour._watched import KvWatch

    plugin = unique("w").replace("-", "_")
    platform = await make_platform(consumers=False, entrypoints=False)
    store = platform.store_for(plugin)
    keys = 300
    await asyncio.gather(*(store.put(f"note.k{i}", Note(str(i))) for i in range(keys)))
    kv = await platform.bus.bucket(store.name)

    async def ready_with() -> int:
        seen, ready = 0, asyncio.Event()

        def on_entry(entry: object) -> None:
            nonlocal seen
            if entry is None:
                ready.set()
            elif not ready.is_set():
                seen += 1

        watch = KvWatch(platform.bus, store.name, "note.>", on_entry)
        sub = await watch._watch(kv)
        try:
            await asyncio.wait_for(ready.wait(), 10)
        finally:
            await sub.unsubscribe()
        return seen

    for _ in range(4):
        assert await asyncio.gather(*(ready_with() for _ in range(8))) == [keys] * 8
    # A prefix with no keys is ready at once, with nothing.
    assert await store.watched("none.").keys() == []
