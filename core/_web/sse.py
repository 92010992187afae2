"""Live pages: events from the stream pushed to the browser over Server-Sent Events.

The SSE ``id`` of each message is the event's stream sequence, so a browser that
reconnects (``Last-Event-ID``) resumes exactly after the last event it saw. Pages
read through the process's live hub (:mod:`promtour._live`): one subscription per
subject filter, shared by every page, never a JetStream consumer per connection.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar.response import ServerSentEvent, ServerSentEventMessage
from promtour._events import Event
from promtour._platform import Platform
from promtour._web.request import RequestContext

__all__ = ["SseMessage", "event_stream", "follow", "live_presence"]

HEARTBEAT = 15.0


class SseMessage(msgspec.Struct, kw_only=True):
    """What a live page receives: an SSE ``event`` name and its ``data`` (text or JSON)."""

    event: str
    data: Any


ToMessage = Callable[[int, Event], "SseMessage | Awaitable[SseMessage | None] | None"]


async def follow(
    platform: Platform,
    subject: str,
    *,
    after: int | None = None,
    since: datetime | None = None,
    heartbeat: float = HEARTBEAT,
) -> AsyncIterator[tuple[int, Event] | None]:
    """Yield ``(sequence, event)`` for events on ``subject`` (wildcards allowed), from
    just after sequence ``after``, or from time ``since``, or from now on. Yields
    ``None`` after ``heartbeat`` seconds of silence so a caller can keep a line alive.
    Ends when this page fell too far behind (its browser reconnects and resumes)."""
    async for item in platform.live.follow(subject, after=after, since=since, heartbeat=heartbeat):
        yield item


def event_stream(
    pt: RequestContext,
    subject: str,
    to_message: ToMessage,
    *,
    since: datetime | None = None,
    first: list[SseMessage] | None = None,
    presence: str | None = None,
) -> ServerSentEvent:
    """An SSE response following ``subject``. ``to_message(seq, event)`` turns an event
    into a message for this page (or ``None`` to skip it); ``first`` messages are sent
    at once (e.g. the current leaderboard). ``Last-Event-ID`` resumes after that id.
    ``presence``: count this page under that key while its stream is open (read with
    :func:`live_presence`; this process's pages only, nothing is written)."""
    last_id = pt.request.headers.get("last-event-id", "")
    after = int(last_id) if last_id.isdigit() else None
    hub = pt._platform.live

    async def generate() -> AsyncIterator[ServerSentEventMessage]:
        if presence is not None:
            hub.enter(presence)
        try:
            for message in first or []:
                yield _encode(message, None)
            async for item in follow(pt._platform, subject, after=after, since=since):
                if item is None:
                    # data=None: litestar's default adds an empty "data:" line, which a
                    # browser dispatches as a (data-less) "message" event.
                    yield ServerSentEventMessage(comment="keep-alive", data=None)
                    continue
                seq, event = item
                result = to_message(seq, event)
                if inspect.isawaitable(result):
                    result = await result
                if result is not None:
                    yield _encode(result, seq)
            await asyncio.sleep(0)
        finally:
            if presence is not None:
                hub.exit(presence)

    return ServerSentEvent(
        generate(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


def live_presence(pt: RequestContext, prefix: str) -> dict[str, int]:
    """Live pages open now in this process whose ``presence`` key starts with
    ``prefix``, by the rest of the key."""
    return pt._platform.live.present(prefix)


def _encode(message: SseMessage, seq: int | None) -> ServerSentEventMessage:
    data = (
        message.data
        if isinstance(message.data, str)
        else msgspec.json.encode(message.data).decode()
    )
    return ServerSentEventMessage(data=data, event=message.event, id=seq)
