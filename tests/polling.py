"""``eventually`` and ``settled``: wait for a condition the test cannot be told about.

For promtour's own core tests that watch a plugin object's in-memory record or a
server coming back; a plugin's tests wait with ``harness.handled`` instead (no polling).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["eventually", "settled"]

T = TypeVar("T")


async def eventually(
    check: Callable[[], object], timeout: float = 20.0, interval: float = 0.05
) -> None:
    """Call ``check`` (sync or async) until it is truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def settled(
    fetch: Callable[[], Awaitable[T]],
    done: Callable[[T], object],
    timeout: float = 10.0,
    interval: float = 0.1,
) -> T:
    """``await fetch()`` until ``done(value)`` or ``timeout`` s; the last value either
    way, so that the test's own asserts show what it was."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(interval)
