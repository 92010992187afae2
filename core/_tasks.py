"""Stopping asyncio tasks for sure: a helper the bus, the consumers and the tour cache
share (re-exported by :mod:`promtour._bus`, where it used to live)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_tasks"]

log = logging.getLogger("promtour._bus")


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
