"""The NATS connection: the event stream, the KV buckets and the media object store.

Pitfalls handled here, once, so that callers need not know them: a plain publish
buffers during a reconnect and can be lost, so events go through ``js.publish`` and
wait for the ack; a timed-out publish has an unknown outcome, so it is retried with
the same ``Nats-Msg-Id``; while the connection is down nothing is buffered: the
caller gets :class:`BusUnavailable` at once and can tell the visitor to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore
from promtour import _streams as streams
from promtour._errors import PromtourError
from promtour._events import STREAM, Event, encode
from promtour._kv import faster_gets
from promtour._requests import faster_requests
from promtour._streams import (
    BUCKET_ENTERPRISES,
    BUCKET_META,
    BUCKET_PROGRESS,
    BUCKET_TOURS,
    CORE_BUCKETS,
    DEFAULT_EVENTS_MAX_AGE,
    DEFAULT_EVENTS_MAX_BYTES,
    DEFAULT_PROGRESS_TTL,
    DEFAULT_VISITOR_RECORD_TTL,
    MEDIA_STORE,
)
from promtour._tasks import cancel_tasks

__all__ = [
    "BUCKET_ENTERPRISES",
    "BUCKET_META",
    "BUCKET_PROGRESS",
    "BUCKET_TOURS",
    "DEFAULT_EVENTS_MAX_AGE",
    "DEFAULT_EVENTS_MAX_BYTES",
    "DEFAULT_PROGRESS_TTL",
    "DEFAULT_VISITOR_RECORD_TTL",
    "MEDIA_STORE",
    "Bus",
    "BusUnavailable",
    "Conflict",
    "cancel_tasks",
    "is_unavailable",
    "read",
    "unavailable_as_bus_error",
    "update_with_retry",
]

log = logging.getLogger("promtour._bus")

T = TypeVar("T")


class _Watch(Protocol):
    async def stop(self) -> None: ...


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
    # A publish that no stream leader answered: on a cluster, while the stream elects
    # a new leader after losing one (seconds); nothing was stored.
    nats.js.errors.NoStreamResponseError,
    asyncio.TimeoutError,
)

# How often a publish that found no stream leader is tried again, within its timeout.
NO_LEADER_RETRY = 0.25


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means NATS cannot be reached right now (answer 503, not 500)."""
    return isinstance(exc, (BusUnavailable, *_UNAVAILABLE))


@contextlib.contextmanager
def unavailable_as_bus_error() -> Iterator[None]:
    """Raise an error of the block that means NATS cannot be reached right now as
    :class:`BusUnavailable` (the page says "try again"); any other passes unchanged."""
    try:
        yield
    except BusUnavailable:
        raise
    except _UNAVAILABLE as exc:
        raise BusUnavailable(str(exc) or type(exc).__name__) from exc


class Bus:
    """One process's connection to NATS, with the handles the platform uses."""

    def __init__(
        self,
        url: str,
        *,
        replicas: int = 1,
        publish_timeout: float = 2.0,
        connect_timeout: float = 10.0,
        events_max_age: float = DEFAULT_EVENTS_MAX_AGE,
        events_max_bytes: int = DEFAULT_EVENTS_MAX_BYTES,
        progress_ttl: float = DEFAULT_PROGRESS_TTL,
        user: str = "",
        password: str = "",
        token: str = "",
        creds: str = "",
    ) -> None:
        """``events_max_age`` and ``progress_ttl`` are seconds, ``events_max_bytes``
        bytes; 0 means no limit. The defaults equal the settings' defaults, so that a
        bare ``Bus(url)`` (a CLI command, a test) does not undo a platform's limits."""
        self.url = url
        # Passed to nats-py as they are, never put into the URL: it is in messages.
        self._auth: dict[str, Any] = {
            key: value
            for key, value in (
                ("user", user),
                ("password", password),
                ("token", token),
                ("user_credentials", creds),
            )
            if value
        }
        self.replicas = replicas
        self.events_max_age = events_max_age
        self.events_max_bytes = events_max_bytes
        self.progress_ttl = progress_ttl
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._kv: dict[str, KeyValue] = {}
        self._media: ObjectStore | None = None
        self._reconnected: list[Callable[[], Awaitable[None]]] = []
        #: This process's watched views of KV prefixes (``promtour._watched``), by bucket
        #: and prefix; stopped before the connection closes.
        self.watches: dict[tuple[str, str], _Watch] = {}

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
    def schema_js(self) -> JetStreamContext:
        """The JetStream context for creating streams and buckets (a longer timeout)."""
        if self._nc is None:
            raise BusUnavailable("not connected to NATS")
        return self._nc.jetstream(timeout=max(self.publish_timeout, streams.SCHEMA_TIMEOUT))

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
            **self._auth,
        )
        try:
            self._nc = await asyncio.wait_for(connecting, self.connect_timeout)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            raise PromtourError(
                f"cannot reach NATS at {self.url} within {self.connect_timeout:g}s "
                f"({str(exc) or type(exc).__name__}): is the server running and the URL right?"
            ) from None
        # Same requests, less CPU each (promtour._requests); before the JetStream
        # context, which sends its API requests through the client's ``request``.
        await faster_requests(self._nc)
        self._js = self._nc.jetstream(timeout=self.publish_timeout)
        await self.ensure_schema()

    async def close(self) -> None:
        for watch in list(self.watches.values()):
            # Let each watch stop its subscription before the connection drains.
            await watch.stop()
        self.watches.clear()
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:  # already closed or the server is gone
                await self._nc.close()
        self._nc = self._js = self._media = None
        self._kv.clear()

    async def ensure_schema(self) -> None:
        """Create the stream, the core buckets and the media store if missing, and give
        them the configured limits (:func:`promtour._streams.ensure_schema`)."""
        self._media = await streams.ensure_schema(self)

    async def set_limits(
        self, stream: str, *, max_age: float, max_bytes: int | None = None
    ) -> bool:
        """Give ``stream`` this max age (seconds) and, unless None, max bytes; 0 means
        no limit. Returns whether the config changed (:func:`promtour._streams.set_limits`)."""
        return await streams.set_limits(self.js, stream, max_age=max_age, max_bytes=max_bytes)

    async def bucket(self, name: str, *, history: int = 1, ttl: float | None = None) -> KeyValue:
        """The KV bucket ``name``, created on first use."""
        kv = self._kv.get(name)
        if kv is None:
            try:
                kv = await self.js.key_value(name)
            except nats.js.errors.BucketNotFoundError:
                await streams.create_bucket(
                    self.schema_js, name, history=history, ttl=ttl, replicas=self.replicas
                )
                kv = await self.js.key_value(name)
            # Same bucket; reads of a key's latest value cost less CPU (promtour._kv).
            kv = self._kv[name] = faster_gets(kv)
        return kv

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
        loop = asyncio.get_running_loop()
        no_leader_until = loop.time() + self.publish_timeout
        attempt = 0
        while attempt < attempts:
            attempt += 1
            try:
                ack = await self.js.publish(
                    event.subject, payload, headers=headers, timeout=self.publish_timeout
                )
                return ack.seq
            except nats.js.errors.NoStreamResponseError:
                # No leader right now (a cluster electing one): nothing was stored, so
                # wait a little and try again, for at most publish_timeout in all.
                if loop.time() + NO_LEADER_RETRY > no_leader_until or not self.connected:
                    raise BusUnavailable("the events stream has no leader") from None
                attempt -= 1
                await asyncio.sleep(NO_LEADER_RETRY)
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


async def update_with_retry(
    kv: KeyValue,
    key: str,
    type_: type[T],
    change: Callable[[T | None], T | Awaitable[T]],
    *,
    attempts: int = 80,
    first: tuple[T | None, int | None] | None = None,
    ttl: float | None = None,
) -> tuple[T, int]:
    """Read-modify-write ``key`` with optimistic concurrency.

    ``change`` gets the current value (``None`` if the key is absent) and returns the
    new one; on a concurrent write it is called again on the fresh value. A writer that
    loses waits a random, growing moment before it reads again, so that fifty members
    of a team answering at once take turns instead of all re-reading after every
    write. Returns the stored value and its revision. ``first`` is a value and
    revision the caller has just read, to save the first read; ``ttl`` (seconds) gives
    the written value a time-to-live.
    """
    decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)
    msg_ttl = None if ttl is None else max(1.0, float(int(ttl)))
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
                stored = await kv.create(key, data, msg_ttl=msg_ttl)
            elif msg_ttl is not None:
                # nats-py's update() takes no TTL; its internal write does (same request).
                stored = await kv._update(key, data, last=revision, msg_ttl=msg_ttl)
            else:
                stored = await kv.update(key, data, last=revision)
            return new, stored  # type: ignore[return-value]
        except nats.js.errors.KeyWrongLastSequenceError:
            await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
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
