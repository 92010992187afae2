"""The NATS connection: the event stream, the KV buckets and the media object store.

Pitfalls handled here, once, so that callers need not know them: a plain publish
buffers during a reconnect and can be lost, so events go through ``js.publish`` and
wait for the ack; a timed-out publish has an unknown outcome, so it is retried with
the same ``Nats-Msg-Id``; while the connection is down nothing is buffered: the
caller gets :class:`BusUnavailable` at once and can tell the visitor to try again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore
from promtour.errors import PromtourError
from promtour.events import STREAM, SUBJECT_PREFIX, Event, encode
from promtour.kv import faster_gets

__all__ = [
    "BUCKET_ENTERPRISES",
    "BUCKET_META",
    "BUCKET_PROGRESS",
    "BUCKET_TOURS",
    "MEDIA_STORE",
    "Bus",
    "BusUnavailable",
    "Conflict",
    "cancel_tasks",
    "is_unavailable",
    "read",
    "update_with_retry",
]

log = logging.getLogger("promtour.bus")

BUCKET_TOURS = "PROMTOUR_TOURS"
BUCKET_ENTERPRISES = "PROMTOUR_ENTERPRISES"
BUCKET_PROGRESS = "PROMTOUR_PROGRESS"
BUCKET_META = "PROMTOUR_META"
MEDIA_STORE = "PROMTOUR_MEDIA"
CORE_BUCKETS = (BUCKET_TOURS, BUCKET_ENTERPRISES, BUCKET_PROGRESS, BUCKET_META)

T = TypeVar("T")


class BusUnavailable(Exception):
    """NATS cannot be reached right now; nothing was written."""


class Conflict(Exception):
    """An optimistic update lost every retry."""


_UNAVAILABLE = (
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.TimeoutError,
    nats.js.errors.ServiceUnavailableError,
    nats.errors.NoRespondersError,
    asyncio.TimeoutError,
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means NATS cannot be reached right now (answer 503, not 500)."""
    return isinstance(exc, (BusUnavailable, *_UNAVAILABLE))


class Bus:
    """One process's connection to NATS, with the handles the platform uses."""

    def __init__(
        self,
        url: str,
        *,
        replicas: int = 1,
        publish_timeout: float = 2.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.replicas = replicas
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._kv: dict[str, KeyValue] = {}
        self._media: ObjectStore | None = None
        self._reconnected: list[Callable[[], Awaitable[None]]] = []

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Call ``callback`` after each reconnect: push subscriptions (watches) can stay
        silent after a server restart, so their owners restart them then."""
        if callback not in self._reconnected:
            self._reconnected.append(callback)

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise BusUnavailable("not connected to NATS")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise BusUnavailable("not connected to NATS")
        return self._js

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self, *, name: str = "promtour") -> None:
        async def on_disconnect() -> None:
            if self._nc is not None and not self._nc.is_draining and not self._nc.is_closed:
                log.warning("NATS disconnected; reconnecting")

        async def on_reconnect() -> None:
            log.info("NATS reconnected to %s", self.nc.connected_url)
            for callback in list(self._reconnected):
                try:
                    await callback()
                except Exception:
                    log.exception("after the reconnect: %s failed", callback)

        async def on_error(exc: Exception) -> None:
            log.debug("NATS error: %s", exc)

        # Once connected, the client reconnects for ever; but the first connection gets
        # a deadline, or a wrong URL would hang `promtour serve` without a word.
        connecting = nats.connect(
            servers=self.url.split(","),
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=3,
            # Closing waits at most this long for subscriptions to drain.
            drain_timeout=5,
            # Nothing is buffered while disconnected: a scan must fail visibly, not be
            # half-written and sent later.
            pending_size=0,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
            error_cb=on_error,
        )
        try:
            self._nc = await asyncio.wait_for(connecting, self.connect_timeout)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise PromtourError(
                f"cannot reach NATS at {self.url} within {self.connect_timeout:g}s "
                f"({str(exc) or type(exc).__name__}): is the server running and the URL right?"
            ) from None
        self._js = self._nc.jetstream(timeout=self.publish_timeout)
        await self.ensure_schema()

    async def close(self) -> None:
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:  # already closed or the server is gone
                await self._nc.close()
        self._nc = self._js = self._media = None
        self._kv.clear()

    async def ensure_schema(self) -> None:
        """Create the stream, the core buckets and the media store if missing."""
        config = StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECT_PREFIX}.>"],
            storage=StorageType.FILE,
            num_replicas=self.replicas,
            duplicate_window=120.0,
        )
        try:
            await self.js.stream_info(STREAM)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(config)
        for bucket in CORE_BUCKETS:
            await self.bucket(bucket, history=5 if bucket == BUCKET_TOURS else 1)
        self._media = await self.js.create_object_store(MEDIA_STORE)

    async def bucket(self, name: str, *, history: int = 1, ttl: float | None = None) -> KeyValue:
        """The KV bucket ``name``, created on first use."""
        kv = self._kv.get(name)
        if kv is None:
            try:
                kv = await self.js.key_value(name)
            except nats.js.errors.BucketNotFoundError:
                kv = await self._create_bucket(name, history=history, ttl=ttl)
            # Same bucket; reads of a key's latest value cost less CPU (promtour.kv).
            kv = self._kv[name] = faster_gets(kv)
        return kv

    async def _create_bucket(self, name: str, *, history: int, ttl: float | None) -> KeyValue:
        """A new KV bucket whose stream allows deleting single messages.

        nats-py's ``create_key_value`` sets ``deny_delete``, which the server never
        lets an update lift ("can not cancel deny message deletes"); without message
        deletes a value cannot be securely erased from the store's files (only purged
        from reads), so erasure (``PluginStore.erase``) needs this from the start.
        Everything else is what ``create_key_value`` sets."""
        window = min(120.0, ttl) if ttl else 120.0
        try:
            await self.js.add_stream(
                StreamConfig(
                    name=f"KV_{name}",
                    subjects=[f"$KV.{name}.>"],
                    allow_direct=True,
                    allow_rollup_hdrs=True,
                    allow_msg_ttl=True,
                    deny_delete=False,
                    discard=DiscardPolicy.NEW,
                    duplicate_window=window,
                    max_age=ttl,
                    max_consumers=-1,
                    max_msgs=-1,
                    max_msgs_per_subject=history,
                    num_replicas=self.replicas,
                    storage=StorageType.FILE,
                )
            )
        except nats.js.errors.BadRequestError:
            pass  # created meanwhile by another process: use that one
        return await self.js.key_value(name)

    async def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """The live keys of a KV bucket that start with ``prefix``, sorted.

        Read from the bucket's stream (its subjects, then each key's latest entry),
        not with nats-py's ``KeyValue.keys()``: that watcher can end early and return
        too few keys, even none, while the bucket is being written concurrently.
        """
        kv = await self.bucket(bucket)
        base = f"$KV.{bucket}."
        # A subject filter must end at a token boundary; else filter here.
        wildcard = f"{base}{prefix}>" if prefix == "" or prefix.endswith(".") else f"{base}>"
        info = await self.js.stream_info(f"KV_{bucket}", subjects_filter=wildcard)
        candidates = sorted(
            key
            for key in (subject[len(base) :] for subject in (info.state.subjects or {}))
            if key.startswith(prefix)
        )

        async def live(key: str) -> bool:
            try:
                entry = await kv.get(key)
            except nats.js.errors.KeyNotFoundError:  # deleted or purged
                return False
            return entry.operation not in ("DEL", "PURGE")

        alive: list[str] = []
        for start in range(0, len(candidates), 64):
            chunk = candidates[start : start + 64]
            flags = await asyncio.gather(*(live(key) for key in chunk))
            alive.extend(key for key, ok in zip(chunk, flags, strict=True) if ok)
        return alive

    @property
    def media(self) -> ObjectStore:
        if self._media is None:
            raise BusUnavailable("not connected to NATS")
        return self._media

    async def publish(self, event: Event, *, attempts: int = 3) -> int:
        """Store ``event`` in the stream and return its sequence.

        Waits for the JetStream ack; ``Nats-Msg-Id`` is the event id, so a retry after
        a lost ack (here, or a client's retried request) stores the event once.
        """
        if not self.connected:
            raise BusUnavailable("NATS is not connected")
        payload = encode(event)
        headers = {"Nats-Msg-Id": event.id}
        for attempt in range(1, attempts + 1):
            try:
                ack = await self.js.publish(
                    event.subject, payload, headers=headers, timeout=self.publish_timeout
                )
                return ack.seq
            except (TimeoutError, nats.errors.TimeoutError):
                log.warning("publish of %s timed out (attempt %d)", event.id, attempt)
                if attempt == attempts or not self.connected:
                    raise BusUnavailable("NATS did not acknowledge the event") from None
            except _UNAVAILABLE as exc:
                raise BusUnavailable(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def ready(self) -> list[str]:
        """Problems that make this process unready; empty when all is well."""
        if not self.connected:
            return ["NATS is not connected"]
        problems: list[str] = []
        try:
            await self.js.stream_info(STREAM)
        except Exception as exc:
            problems.append(f"stream {STREAM}: {exc or type(exc).__name__}")
        for bucket in CORE_BUCKETS:
            try:
                await self.js.key_value(bucket)
            except Exception as exc:
                problems.append(f"bucket {bucket}: {exc or type(exc).__name__}")
        return problems


async def cancel_tasks(tasks: Iterable[asyncio.Task[Any]], *, timeout: float = 5.0) -> None:
    """Cancel ``tasks`` and wait until they have ended.

    On Python 3.11 ``asyncio.wait_for`` (which nats-py uses for every request) can
    swallow a cancellation that races with the reply, and the task then goes on as if
    nothing happened; so the cancel is repeated until each task is done, for at most
    ``timeout`` seconds, rather than waiting for ever."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pending = {task for task in tasks if not task.done()}
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("%d task(s) did not stop: %s", len(pending), pending)
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(0.1, remaining))
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.debug("task %s ended with %r", task.get_name(), task.exception())


async def update_with_retry(
    kv: KeyValue,
    key: str,
    type_: type[T],
    change: Callable[[T | None], T | Awaitable[T]],
    *,
    attempts: int = 50,
    first: tuple[T | None, int | None] | None = None,
) -> tuple[T, int]:
    """Read-modify-write ``key`` with optimistic concurrency.

    ``change`` gets the current value (``None`` if the key is absent) and returns the
    new one; on a concurrent write it is called again on the fresh value. Returns the
    stored value and its revision. ``first`` is a value and revision the caller has
    just read, to save the first read.
    """
    decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)
    for attempt in range(attempts):
        if first is None:
            first = await read(kv, key, decoder)
        current, revision = first
        first = None
        new = change(current)
        if inspect.isawaitable(new):
            new = await new
        data = msgspec.json.encode(new)
        try:
            if revision is None:
                stored = await kv.create(key, data)
            else:
                stored = await kv.update(key, data, last=revision)
            return new, stored  # type: ignore[return-value]
        except nats.js.errors.KeyWrongLastSequenceError:
            # Back off a little, more as contention lasts, with jitter: many writers of
            # one key (a team, a board) would otherwise retry in lock-step.
            await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
            continue
        except _UNAVAILABLE as exc:
            raise BusUnavailable(str(exc) or type(exc).__name__) from exc
    raise Conflict(f"too many concurrent updates of {key!r}")


async def read(
    kv: KeyValue, key: str, decoder: msgspec.json.Decoder[T]
) -> tuple[T | None, int | None]:
    """The value at ``key`` and its revision, or ``(None, None)``."""
    try:
        entry = await kv.get(key)
    except nats.js.errors.KeyNotFoundError:
        return None, None
    except _UNAVAILABLE as exc:
        raise BusUnavailable(str(exc) or type(exc).__name__) from exc
    if not entry.value:
        return None, entry.revision
    return decoder.decode(entry.value), entry.revision
