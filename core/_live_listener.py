"""One live page's queue: what a page of a :class:`promtour._live.Feed` is sent.

Apart from :mod:`promtour._live` (the shared subscriptions) because it is the part
with the memory bound: each page is a :class:`Listener` with a bounded queue, and a
page that falls ``QUEUE_LIMIT`` events behind is dropped, not trimmed (the browser
reconnects with ``Last-Event-ID`` and resumes from the stream), so a slow phone costs
bounded memory and never holds up the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from promtour._events import Event

if TYPE_CHECKING:
    from promtour._live import Feed

__all__ = ["QUEUE_LIMIT", "RING_SIZE", "Decode", "Item", "Listener"]

#: Recent events a feed keeps for pages that join or resume.
RING_SIZE = 512
#: Events a page may fall behind before it is dropped (it reconnects and resumes).
QUEUE_LIMIT = 256

#: (stream sequence, stream time, event)
Item = tuple[int, datetime, Event]
Decode = Callable[[bytes], Event]


class Listener:
    """One page's view of a feed: a bounded queue of ``(sequence, event)``."""

    __slots__ = ("_holding", "_last", "_queue", "_since", "_waiter", "closed", "dropped", "feed")

    def __init__(self, feed: Feed, *, since: datetime | None, holding: bool) -> None:
        self.feed = feed
        self._queue: deque[Item] = deque()
        self._since = since
        #: The highest sequence queued: a duplicate (resume overlap, consumer reset) is
        #: one with a sequence at or below it.
        self._last = 0
        #: While the backlog is read from the stream, live events wait here.
        self._holding: deque[Item] | None = deque() if holding else None
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        #: Dropped for falling too far behind (the page reconnects and resumes).
        self.dropped = False

    def push(self, item: Item) -> None:
        """A live event from the feed."""
        if self._holding is not None:
            if len(self._holding) >= QUEUE_LIMIT + RING_SIZE:
                self._drop()
            else:
                self._holding.append(item)
            return
        self._put(item)

    def backlog(self, item: Item) -> None:
        """An event from before the page joined, in sequence order."""
        self._put(item)

    def release(self) -> None:
        """The backlog is in: queue the live events held meanwhile."""
        held, self._holding = self._holding, None
        for item in held or ():
            self._put(item)

    def _put(self, item: Item) -> None:
        if self.closed or item[0] <= self._last:
            return
        if self._since is not None and item[1] < self._since:
            return
        if len(self._queue) >= QUEUE_LIMIT:
            self._drop()
            return
        self._queue.append(item)
        self._last = item[0]
        self._wake()

    def _drop(self) -> None:
        self.dropped = True
        self.close()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self, timeout: float) -> Item | None:
        """The next event, or ``None`` after ``timeout`` seconds of silence. Raises
        :class:`EOFError` once the listener is closed (dropped or the hub stopped)."""
        if not self._queue and not self.closed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._waiter
            except TimeoutError:
                return None
            finally:
                self._waiter = None
        if self._queue:
            return self._queue.popleft()
        raise EOFError("live feed closed")
