"""Live feeds: one stream subscription per subject filter per process, fanned out in memory.

Thousands of phones on a leaderboard or a group show must not mean thousands of
JetStream consumers (the server refuses new ones at its limit, and each costs every
publish some latency). So a process keeps one :class:`Feed` per subject filter: an
ordered push consumer on the events stream, shared by every page of that filter in
the process, and closed a few seconds after the last page left.

Why an ordered consumer and not a core NATS subscription: a page's SSE id is the
event's stream sequence (so ``Last-Event-ID`` resumes without a gap), and only
messages delivered by a consumer carry it; an ordered consumer also notices a gap or
a stalled server (heartbeats) and is restarted from the last sequence seen after a
reconnect. The price is one consumer per *filter* per process, not per phone.

Each page is a :class:`Listener` (:mod:`promtour._live_listener`) with a bounded
queue. A page that falls ``QUEUE_LIMIT`` events behind (a phone in a tunnel, a
stalled socket) is dropped, not trimmed: its stream ends, the browser's EventSource
reconnects with ``Last-Event-ID`` and gets what it missed from the stream, so a slow
phone costs bounded memory and never sees a silent gap, and never holds up the others.

Presence: a page may name a presence key (a group show: tour, group and language);
the hub counts the pages open under each key in this process (:meth:`LiveHub.present`),
in memory: opening a page writes nothing shared, so a burst of a thousand phones is a
thousand dictionary increments, and a phone that leaves is uncounted when its stream
ends. Several processes each count their own pages.

A page that resumes (``after`` a sequence) or replays (``since`` a time) first gets the
backlog: from the feed's memory of recent events when that reaches back far enough
(the usual case: a feed starts ``REPLAY_SECONDS`` in the past and keeps the last
``RING_SIZE`` events), else read once from the stream with message gets (no
consumer); live events that arrive meanwhile are held and deduplicated by sequence.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import nats.js.errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import ConsumerConfig, DeliverPolicy
from promtour._bus import Bus
from promtour._events import STREAM, Event
from promtour._live_listener import QUEUE_LIMIT, RING_SIZE, Decode, Item, Listener

__all__ = [
    "IDLE_CLOSE",
    "QUEUE_LIMIT",
    "REPLAY_SECONDS",
    "RING_SIZE",
    "Feed",
    "Listener",
    "LiveHub",
]

log = logging.getLogger("promtour._live")

#: How far back a new feed starts, so that a page asking for the last few seconds (a
#: group show's cue in progress, a board "since now") is served from memory.
REPLAY_SECONDS = 30.0
#: Seconds a feed stays open after its last page left: a reload comes back at once.
IDLE_CLOSE = 5.0


class Feed:
    """One ordered consumer on ``subject``, fanned out to its listeners."""

    def __init__(self, hub: LiveHub, subject: str) -> None:
        self.hub = hub
        self.subject = subject
        self.listeners: set[Listener] = set()
        #: The last sequence delivered to listeners.
        self.last_seq = 0
        #: The feed holds every event on ``subject`` stored at or after this time.
        self.start_time = datetime.now(UTC) - timedelta(seconds=hub.replay_seconds)
        self._ring: deque[Item] = deque(maxlen=RING_SIZE)
        #: The newest event pushed out of the ring, if any: memory is complete after it.
        self._evicted: Item | None = None
        self._sub: Subscription | None = None
        #: Closes the feed a while after its last listener left.
        self.idle_timer: asyncio.TimerHandle | None = None
        self.ready: asyncio.Task[None] = asyncio.create_task(
            self._subscribe(), name=f"promtour-live-{subject}"
        )

    async def _subscribe(self) -> None:
        if self.last_seq:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.last_seq + 1
            )
        else:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=self.start_time
            )
        self._sub = await self.hub.bus.js.subscribe(
            self.subject,
            stream=STREAM,
            ordered_consumer=True,
            config=config,
            idle_heartbeat=5.0,
            cb=self._on_msg,
            # The callback never waits, but a burst must not hit nats-py's default
            # limit of 512k pending bytes and be dropped as a slow consumer.
            pending_msgs_limit=-1,
            pending_bytes_limit=-1,
        )

    async def _on_msg(self, msg: Msg) -> None:
        meta = msg.metadata
        seq = meta.sequence.stream
        if seq <= self.last_seq:  # redelivered after a consumer reset
            return
        try:
            event = self.hub.decode(msg.data)
        except msgspec.DecodeError:
            self.last_seq = seq
            return
        item = (seq, meta.timestamp, event)
        self.last_seq = seq
        if len(self._ring) == RING_SIZE:
            self._evicted = self._ring[0]
        self._ring.append(item)
        for listener in list(self.listeners):
            listener.push(item)
            if listener.closed:
                self.listeners.discard(listener)

    def from_memory(self, after: int | None, since: datetime | None) -> list[Item] | None:
        """The events after ``after`` (or from ``since``) if memory reaches that far."""
        ring, evicted = self._ring, self._evicted
        if after is not None:
            if evicted is not None:
                floor = evicted[0]
            elif ring:
                floor = ring[0][0] - 1
            else:
                return None
            return [i for i in ring if i[0] > after] if after >= floor else None
        if since is not None:
            covered = since > evicted[1] if evicted is not None else since >= self.start_time
            return [i for i in ring if i[1] >= since] if covered else None
        return []

    async def from_stream(
        self, listener: Listener, after: int | None, since: datetime | None
    ) -> None:
        """Read the backlog with message gets until the feed takes over: an event the
        feed has not delivered yet and stored after its start reaches the listener
        live."""
        upto = self.last_seq
        first: dict[str, Any] = {"next_by_subj": self.subject}
        if after is not None:
            first["seq"] = after + 1
        else:
            assert since is not None
            first["start_time"] = since.astimezone(UTC).isoformat()
        request: dict[str, Any] = first
        nc = self.hub.bus.nc
        while True:
            reply = msgspec.json.decode(
                (
                    await nc.request(
                        f"$JS.API.STREAM.MSG.GET.{STREAM}",
                        msgspec.json.encode(request),
                        timeout=self.hub.bus.publish_timeout,
                    )
                ).data
            )
            error = reply.get("error")
            if error is not None:
                if error.get("code") == 404:  # nothing (more) after that point
                    return
                nats.js.errors.APIError.from_error(error)  # raises
            message = reply["message"]
            seq = int(message["seq"])
            stored = _parse_time(message["time"])
            if seq > upto and stored >= self.start_time:
                return
            try:
                event = self.hub.decode(base64.b64decode(message.get("data", "")))
            except (msgspec.DecodeError, ValueError):
                pass
            else:
                listener.backlog((seq, stored, event))
            request = {"seq": seq + 1, "next_by_subj": self.subject}

    async def restart(self) -> None:
        """After a reconnect: a push consumer can stay silent after a server restart,
        so start a new one from the last sequence delivered."""
        old, self._sub = self._sub, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()
        await self._subscribe()

    async def close(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        if not self.ready.done():
            self.ready.cancel()
            with contextlib.suppress(BaseException):
                await self.ready
        for listener in list(self.listeners):
            listener.close()
        self.listeners.clear()
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


class LiveHub:
    """The live feeds of one process, owned by the Platform (started and stopped
    with it). Feeds are shared by exact filter string: ``a.b.>`` and ``a.b.c`` are two
    feeds even though one covers the other (simple, and pages of one kind ask for the
    same filter)."""

    def __init__(self, bus: Bus, decode: Decode) -> None:
        self.bus = bus
        self.decode = decode
        self.feeds: dict[str, Feed] = {}
        #: Instance copies of the module's defaults, so a test can shorten them.
        self.replay_seconds = REPLAY_SECONDS
        self.idle_close = IDLE_CLOSE
        self._closing: set[asyncio.Task[None]] = set()
        self._running = False
        #: Pages open now in this process, per presence key.
        self._present: dict[str, int] = {}

    async def start(self) -> None:
        self._running = True
        self.bus.on_reconnect(self._resubscribe)

    async def stop(self) -> None:
        self._running = False
        feeds = list(self.feeds.values())
        self.feeds.clear()
        for feed in feeds:
            await feed.close()
        for task in list(self._closing):
            with contextlib.suppress(BaseException):
                await task

    def enter(self, key: str) -> None:
        """A page under presence ``key`` opened (see :meth:`present`)."""
        self._present[key] = self._present.get(key, 0) + 1

    def exit(self, key: str) -> None:
        """A page under presence ``key`` closed."""
        left = self._present.get(key, 0) - 1
        if left > 0:
            self._present[key] = left
        else:
            self._present.pop(key, None)

    def present(self, prefix: str) -> dict[str, int]:
        """Pages open now in this process under keys starting with ``prefix``, by the
        rest of the key (e.g. ``{"en": 3, "ru": 12}``)."""
        return {k[len(prefix) :]: n for k, n in self._present.items() if k.startswith(prefix)}

    @property
    def listeners(self) -> int:
        return sum(len(feed.listeners) for feed in self.feeds.values())

    async def _resubscribe(self) -> None:
        for feed in list(self.feeds.values()):
            try:
                await feed.ready
                await feed.restart()
            except Exception:
                log.exception("live feed %s did not restart", feed.subject)

    async def _feed(self, subject: str) -> Feed:
        feed = self.feeds.get(subject)
        if feed is None:
            feed = self.feeds[subject] = Feed(self, subject)
        if feed.idle_timer is not None:
            feed.idle_timer.cancel()
            feed.idle_timer = None
        try:
            await asyncio.shield(feed.ready)
        except BaseException:
            if feed.ready.done() and self.feeds.get(subject) is feed:
                del self.feeds[subject]
            raise
        return feed

    async def listen(
        self, subject: str, *, after: int | None = None, since: datetime | None = None
    ) -> Listener:
        """A listener on ``subject`` with the backlog after sequence ``after`` or from
        time ``since`` already queued (from now on if neither)."""
        if not self._running:
            raise RuntimeError("the live hub is not running")
        feed = await self._feed(subject)
        remembered = feed.from_memory(after, since)
        if remembered is not None:
            listener = Listener(feed, since=since, holding=False)
            for item in remembered:
                listener.backlog(item)
            feed.listeners.add(listener)
            return listener
        listener = Listener(feed, since=since, holding=True)
        feed.listeners.add(listener)
        try:
            await feed.from_stream(listener, after, since)
        except BaseException:
            self.leave(listener)
            raise
        listener.release()
        return listener

    def leave(self, listener: Listener) -> None:
        """The page has gone; the feed closes ``idle_close`` seconds after its last."""
        listener.close()
        feed = listener.feed
        feed.listeners.discard(listener)
        # A feed the hub has replaced meanwhile is closed already: no timer for it.
        if feed.listeners or feed.idle_timer or not self._is_current(feed):
            return
        feed.idle_timer = asyncio.get_running_loop().call_later(
            self.idle_close, self._close_idle, feed
        )

    def _is_current(self, feed: Feed) -> bool:
        return self.feeds.get(feed.subject) is feed

    def _close_idle(self, feed: Feed) -> None:
        feed.idle_timer = None
        if feed.listeners or self.feeds.get(feed.subject) is not feed:
            return
        del self.feeds[feed.subject]
        task = asyncio.create_task(feed.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def follow(
        self,
        subject: str,
        *,
        after: int | None = None,
        since: datetime | None = None,
        heartbeat: float,
    ) -> AsyncIterator[tuple[int, Event] | None]:
        """``(sequence, event)`` on ``subject``; ``None`` after ``heartbeat`` seconds of
        silence. Ends when the listener is dropped (too slow) or the hub stops."""
        listener = await self.listen(subject, after=after, since=since)
        try:
            while True:
                try:
                    item = await listener.next(heartbeat)
                except EOFError:
                    return
                yield None if item is None else (item[0], item[2])
        finally:
            self.leave(listener)


def _parse_time(text: str) -> datetime:
    """A NATS time (RFC 3339 with nanoseconds) as an aware datetime."""
    head, _, rest = text.rstrip("Z").partition(".")
    fraction = "".join(c for c in rest if c.isdigit())[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{head}.{fraction}+00:00")
