"""Personal data expires by erasure: the platform's sweep of the expiry index.

A record stored with ``create(..., ttl=, personal=True)`` has an index key beside it
(:func:`promtour._store.expiry_key`). The server's own TTL would drop the record without
overwriting it, leaving its bytes in the stream's block file, so the record's server
TTL is set :data:`~promtour._store.EXPIRY_BACKSTOP` later and this sweep erases it first
(:meth:`promtour._store.PluginStore.erase_due`): every ``nats.expiry_sweep_seconds`` it
lists the plugin buckets that hold an index and erases what is due.

One sweeper per process (the web app and its workers each run one): erasure is
idempotent, so processes sweeping the same bucket at once do no harm; the cost is two
small JetStream requests per plugin bucket per sweep when nothing is due.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from promtour._bus import Bus, is_unavailable
from promtour._store import EXPIRY_PREFIX, PluginStore
from promtour._tasks import cancel_tasks

__all__ = ["DEFAULT_SWEEP_INTERVAL", "ExpirySweeper", "plugin_buckets", "sweep"]

log = logging.getLogger("promtour._expiry")

#: Seconds between sweeps: a personal record is erased at most this long after its TTL.
DEFAULT_SWEEP_INTERVAL = 60.0
#: Stream name prefix of the plugins' KV buckets (``KV_`` + :func:`bucket_name`).
PLUGIN_STREAMS = "KV_PROMTOUR_P_"


async def plugin_buckets(bus: Bus) -> list[str]:
    """The names of the plugin buckets (whether or not their plugin is loaded now: a
    disabled plugin's personal data expires too)."""
    names: list[str] = []
    offset = 0
    while True:
        # STREAM.NAMES with a subject filter: only streams that can hold an index key.
        reply = await bus.js._api_request(
            f"{bus.js._prefix}.STREAM.NAMES",
            json.dumps({"offset": offset, "subject": f"$KV.*.{EXPIRY_PREFIX}>"}).encode(),
            timeout=bus.publish_timeout,
        )
        page = reply.get("streams") or []
        names.extend(n[len("KV_") :] for n in page if n.startswith(PLUGIN_STREAMS))
        offset += len(page)
        if not page or offset >= reply.get("total", 0):
            return sorted(names)


async def sweep(bus: Bus, now: float | None = None) -> int:
    """Erase every due personal record of every plugin bucket; returns how many."""
    now = time.time() if now is None else now
    done = 0
    for bucket in await plugin_buckets(bus):
        # The store of a bucket by its name: bucket_name() of the upper-case suffix is
        # the same bucket, and the bucket exists, so its settings do not matter here.
        store = PluginStore(bus, bucket[len("PROMTOUR_P_") :])
        try:
            done += await store.erase_due(now)
        except Exception as exc:
            if is_unavailable(exc):
                raise  # one bucket's trouble must not stop the others' erasure
            log.exception("expiry sweep of %s failed", bucket)
    return done


class ExpirySweeper:
    """Runs :func:`sweep` every ``interval`` seconds until stopped."""

    def __init__(self, bus: Bus, *, interval: float = DEFAULT_SWEEP_INTERVAL) -> None:
        self._bus = bus
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="expiry-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_tasks([self._task])
            self._task = None

    async def _run(self) -> None:
        while True:
            # Sleep first: a process (or a test's platform) that lives for seconds adds
            # no load, and a restart catches up within one interval, well before the
            # backstop.
            await asyncio.sleep(self.interval)
            try:
                erased = await sweep(self._bus)
                if erased:
                    log.info("expiry: erased %d personal record(s)", erased)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_unavailable(exc):  # NATS away: the next sweep catches up
                    log.debug("expiry sweep skipped: %s", exc)
                else:
                    log.exception("expiry sweep failed")
