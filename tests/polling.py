"""``eventually``: wait for a condition the test cannot be told about.

For promtour's own core tests that watch a plugin object's in-memory record or a
server coming back; a plugin's tests wait with ``harness.handled`` instead (no polling).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["eventually"]


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
