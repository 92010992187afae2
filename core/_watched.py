"""Records that change rarely, held in each process and kept current by a KV watch.

A station page reads some records on every scan that change only when an operator or
an admin acts (the routes a tour is on, for example). Each read is one NATS request,
about 100 µs of CPU in nats-py's request machinery (docs/performance.md). A
:class:`WatchedKeys` holds every key under one prefix of a bucket in memory: it starts
a KV watch on the first read (which waits for the watch's current values), and from
then on a read is a dictionary lookup.

How current it is (the guarantee, tested in tests/test_core_watched.py):

- a write made through this process's :class:`~promtour._store.PluginStore` (``put``,
  ``create``, ``replace``, ``update``) is seen by the next read in this process (the
  store hands the written value over before it returns);
- a write made by another process is seen when the watch delivers it: milliseconds
  after the write on a healthy connection. After a reconnect the watch is restarted
  and delivers every key's current value again (a watch can stay silent after a
  server restart), as :class:`promtour._tours.TourCache` does for tours; while NATS is
  away, reads answer from memory (the last known values) and writes fail as usual;
- deletes and purges (also a server's TTL expiry) are seen through the watch only.

Only for records that are not personal and few (a list of routes, not the visitors'
records): every process keeps all of them in memory for as long as it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy
from nats.js.kv import KV_DEL, KV_OP, KV_PURGE, KeyValue
from promtour._bus import Bus, BusUnavailable, is_unavailable
from promtour._tasks import cancel_tasks

__all__ = ["KvWatch", "WatchedKeys", "watched_keys"]

T = TypeVar("T")

log = logging.getLogger("promtour._watched")

#: Seconds before a failed watch is started again.
RESTART_WAIT = 1.0

#: The header of the server's own markers (nats-server 2.11+); not every nats-py that
#: promtour accepts has a name for it.
MARKER_REASON = "Nats-Marker-Reason"


class KvWatch:
    """One KV watch kept running for its owner: started again after an error (after
    :data:`RESTART_WAIT`) and after each reconnect (a watch can stay silent for many
    seconds after a server restart, until its missed heartbeats are noticed; a fresh
    one delivers every current value first). ``on_entry`` gets each entry, and None
    once every current value was delivered. ``on_error`` decides whether to go on
    after an error (default: always). Used by :class:`WatchedKeys` and the tour cache
    (:class:`promtour._tours.TourCache`)."""

    def __init__(
        self,
        bus: Bus,
        bucket: str,
        keys: str,
        on_entry: Callable[[KeyValue.Entry | None], None],
        *,
        history: int = 1,
        on_error: Callable[[BaseException], bool] | None = None,
    ) -> None:
        self._bus = bus
        self.bucket = bucket
        self.keys = keys
        self._on_entry = on_entry
        self._history = history
        self._on_error = on_error
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def start(self) -> asyncio.Task[None]:
        """Start it (again, if it stopped); the task runs until :meth:`stop`."""
        if self._task is None or self._task.done():
            self._task = self._new_task()
            self._bus.on_reconnect(self._rewatch)
        return self._task

    def _new_task(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._run(), name=f"promtour-watch-{self.bucket}")

    async def _rewatch(self) -> None:
        old = self._task
        if old is None or old.done():
            return
        self._task = self._new_task()
        await cancel_tasks([old])

    async def _run(self) -> None:
        while True:
            sub = None
            try:
                kv: KeyValue = await self._bus.bucket(self.bucket, history=self._history)
                sub = await self._watch(kv)
                await asyncio.Event().wait()  # entries come to the callback until cancelled
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                level = logging.DEBUG if is_unavailable(exc) else logging.WARNING
                log.log(level, "watch of %s/%s restarts: %s", self.bucket, self.keys, exc)
                if self._on_error is not None and not self._on_error(exc):
                    return
                await asyncio.sleep(RESTART_WAIT)
            finally:
                if sub is not None:
                    with contextlib.suppress(Exception):
                        # Stop the subscription before the connection drains.
                        await sub.unsubscribe()

    async def _watch(self, kv: KeyValue) -> Subscription:
        """Subscribe to every key's latest value and then to each change.

        Not nats-py's ``KeyValue.watch``: it says "every current value delivered" (its
        None) when the consumer's info shows nothing pending and the client has
        received nothing yet, but the server counts messages as delivered when it
        queues them, and its info reply can overtake them. A watch started on a
        loaded machine then said "ready" before the route index had arrived, and a
        scan missed the route (and its stamp). Here the info's delivered count
        decides: none delivered and none pending is an empty watch; otherwise the
        message with nothing pending after it ends the current values."""
        done = False

        async def on_msg(msg: Msg) -> None:
            nonlocal done
            entry = _entry_of(kv, msg)
            if entry is not None:
                self._on_entry(entry)
            if not done and msg.metadata.num_pending == 0:
                done = True
                self._on_entry(None)

        sub = await kv._js.subscribe(
            f"{kv._pre}{self.keys}",
            stream=kv._stream,
            cb=on_msg,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
            inactive_threshold=300,
        )
        try:
            info = await sub.consumer_info()
        except BaseException:
            await sub.unsubscribe()
            raise
        delivered = info.delivered.consumer_seq if info.delivered is not None else 0
        if not done and info.num_pending == 0 and not delivered:
            done = True
            self._on_entry(None)
        return sub

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_tasks([task])


def _entry_of(kv: KeyValue, msg: Msg) -> KeyValue.Entry | None:
    """The KV entry a watch message carries, as nats-py's watch makes it; None for a
    server marker of a kind promtour does not know."""
    headers = msg.headers or {}
    operation = headers.get(KV_OP)
    if operation is None and MARKER_REASON in headers:
        # The server's own markers (a TTL's expiry).
        reason = headers[MARKER_REASON]
        if reason in ("MaxAge", "Purge"):
            operation = KV_PURGE
        elif reason == "Remove":
            operation = KV_DEL
        else:
            return None
    meta = msg.metadata
    return KeyValue.Entry(
        bucket=kv._name,
        key=msg.subject[len(kv._pre) :],
        value=msg.data,
        revision=meta.sequence.stream,
        delta=meta.num_pending,
        created=None,  # unused here
        operation=operation,
    )


class WatchedKeys:
    """Every key under ``prefix`` (ending in ``.``) of the KV bucket ``bucket``, held
    in this process. Get one with :func:`watched_keys` (one per bus, bucket and prefix)
    or, in a plugin, with :meth:`promtour.plugin.PluginStore.watched`."""

    def __init__(self, bus: Bus, bucket: str, prefix: str, *, history: int = 1) -> None:
        if prefix and not prefix.endswith("."):
            raise ValueError(f"a watched prefix ends with '.': {prefix!r}")
        self._bus = bus
        self.bucket = bucket
        self.prefix = prefix
        self._history = history
        #: key (without the prefix) -> (revision, raw value).
        self._raw: dict[str, tuple[int, bytes]] = {}
        #: key -> (type, decoded value): decoded once per revision, shared by readers.
        self._decoded: dict[str, tuple[Any, Any]] = {}
        self._ready = asyncio.Event()
        self._watch = KvWatch(
            bus, bucket, f"{prefix}>", self._entry, history=history, on_error=self._failed
        )
        self._failure: BaseException | None = None

    # --- reads --------------------------------------------------------------------

    async def get(self, key: str, type_: type[T]) -> T | None:
        """The value at ``prefix + key``, or None. The value is shared by every reader
        in the process: do not change it (build a new one and write it)."""
        if not self._ready.is_set():
            await self._start()
        cached = self._decoded.get(key)
        if cached is not None and cached[0] is type_:
            return cached[1]  # type: ignore[no-any-return]
        stored = self._raw.get(key)
        if stored is None or not stored[1]:
            return None
        value = msgspec.json.decode(stored[1], type=type_)
        self._decoded[key] = (type_, value)
        return value

    async def keys(self) -> list[str]:
        """The live keys (without the prefix), sorted."""
        if not self._ready.is_set():
            await self._start()
        return sorted(k for k, (_, data) in self._raw.items() if data)

    # --- keeping it current ---------------------------------------------------------

    def written(self, key: str, revision: int, data: bytes) -> None:
        """A write of ``prefix + key`` at ``revision`` made by this process (the store
        calls this), so that this process reads its own writes at once."""
        self._apply(key, revision, data)

    def _apply(self, key: str, revision: int, data: bytes) -> None:
        current = self._raw.get(key)
        if current is not None and current[0] >= revision:
            return  # the watch and the store's hand-over can both bring a write
        self._raw[key] = (revision, data)
        self._decoded.pop(key, None)

    async def _start(self) -> None:
        if self._watch.task is None or self._watch.task.done():
            self._failure = None
        task = self._watch.start()
        waiter = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait(
            {waiter, task},
            timeout=self._bus.publish_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if waiter not in done:
            waiter.cancel()
            failure = self._failure
            raise BusUnavailable(
                f"watch of {self.bucket}/{self.prefix}> not ready"
                + (f": {failure}" if failure else "")
            )

    def _entry(self, entry: KeyValue.Entry | None) -> None:
        if entry is None:  # every current value delivered
            self._ready.set()
            return
        key = entry.key[len(self.prefix) :]
        if entry.operation in (KV_DEL, KV_PURGE):
            self._apply(key, entry.revision or 0, b"")
        else:
            self._apply(key, entry.revision or 0, entry.value or b"")

    def _failed(self, exc: BaseException) -> bool:
        """Go on after an error once ready; before, the first read raises
        BusUnavailable and the next one starts the watch again."""
        self._failure = exc
        return self._ready.is_set()

    async def stop(self) -> None:
        await self._watch.stop()


def watched_keys(bus: Bus, bucket: str, prefix: str, *, history: int = 1) -> WatchedKeys:
    """The :class:`WatchedKeys` of ``bucket`` and ``prefix`` on this bus (one per
    process and connection; the bus stops them when it closes)."""
    found = bus.watches.get((bucket, prefix))
    if not isinstance(found, WatchedKeys):
        found = bus.watches[(bucket, prefix)] = WatchedKeys(bus, bucket, prefix, history=history)
    return found
