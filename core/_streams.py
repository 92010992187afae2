"""The platform's schema on NATS: the events stream, the core KV buckets and the media
store, and the storage limits they are given.

Apart from :mod:`promtour._bus` (the connection, publishing, optimistic updates) because
it changes for other reasons: retention settings and JetStream's stream options. The
limits are applied at every start, so a changed setting takes effect without a
migration; :class:`promtour._bus.Bus` calls in here and re-exports the names.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING

import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.object_store import ObjectStore
from promtour._errors import PromtourError
from promtour._events import STREAM, SUBJECT_PREFIX

if TYPE_CHECKING:
    from promtour._bus import Bus

__all__ = [
    "BUCKET_ENTERPRISES",
    "BUCKET_META",
    "BUCKET_PROGRESS",
    "BUCKET_TOURS",
    "CORE_BUCKETS",
    "DEFAULT_EVENTS_MAX_AGE",
    "DEFAULT_EVENTS_MAX_BYTES",
    "DEFAULT_PROGRESS_TTL",
    "DEFAULT_VISITOR_RECORD_TTL",
    "DUPLICATE_WINDOW",
    "MEDIA_STORE",
    "SCHEMA_TIMEOUT",
    "create_bucket",
    "ensure_schema",
    "set_limits",
    "until_led",
]

log = logging.getLogger("promtour._bus")

#: Seconds a stream or bucket creation, and its first leader, may take: done once, and
#: a replicated stream on a loaded cluster took more than the 2 s of a publish.
SCHEMA_TIMEOUT = 15.0

BUCKET_TOURS = "PROMTOUR_TOURS"
BUCKET_ENTERPRISES = "PROMTOUR_ENTERPRISES"
BUCKET_PROGRESS = "PROMTOUR_PROGRESS"
BUCKET_META = "PROMTOUR_META"
MEDIA_STORE = "PROMTOUR_MEDIA"
CORE_BUCKETS = (BUCKET_TOURS, BUCKET_ENTERPRISES, BUCKET_PROGRESS, BUCKET_META)

# Storage bounds (docs/settings.md explains the choice). Events are the tour statistics:
# a little over a year, so that a season can be compared with the same one a year ago.
DEFAULT_EVENTS_MAX_AGE = 400 * 86_400.0
# A check-in takes about 420 bytes in the stream: 2 GiB is about five million check-ins,
# years of a busy factory, and still fits on a small machine, where JetStream must be
# able to reserve it (a stream's max_bytes is reserved from the server's storage).
DEFAULT_EVENTS_MAX_BYTES = 2 * 1024**3
# A visitor who has not scanned for half a year is not coming back to finish the tour.
DEFAULT_PROGRESS_TTL = 180 * 86_400.0
# Plugins' records about one visitor (listening positions, quest state, quiz answers)
# are worth as much as the progress they go with, so they last as long by default.
DEFAULT_VISITOR_RECORD_TTL = DEFAULT_PROGRESS_TTL
# Nats-Msg-Id de-duplication window of the events stream (at most its max age).
DUPLICATE_WINDOW = 120.0


async def ensure_schema(bus: Bus) -> ObjectStore:
    """Create the stream, the core buckets and the media store if missing, and give
    the stream and the progress bucket the configured limits (also when they exist:
    a changed setting applies at the next start); returns the media store."""
    config = StreamConfig(
        name=STREAM,
        subjects=[f"{SUBJECT_PREFIX}.>"],
        storage=StorageType.FILE,
        num_replicas=bus.replicas,
        duplicate_window=_duplicate_window(bus.events_max_age),
        max_age=bus.events_max_age or None,
        max_bytes=bus.events_max_bytes or None,
    )
    try:
        await bus.js.stream_info(STREAM)
    except nats.js.errors.NotFoundError:
        try:
            await bus.schema_js.add_stream(config)
        except nats.js.errors.APIError as exc:
            raise _limit_error(STREAM, exc, bus.events_max_bytes) from None
        await until_led(bus.js, STREAM)
    else:
        await set_limits(bus.js, STREAM, max_age=bus.events_max_age, max_bytes=bus.events_max_bytes)
    for bucket in CORE_BUCKETS:
        progress = bucket == BUCKET_PROGRESS
        await bus.bucket(
            bucket,
            history=5 if bucket == BUCKET_TOURS else 1,
            ttl=(bus.progress_ttl or None) if progress else None,
        )
    # A bucket that existed before keeps its config: bring the TTL up to date.
    await set_limits(bus.js, f"KV_{BUCKET_PROGRESS}", max_age=bus.progress_ttl)
    try:
        return await bus.js.object_store(MEDIA_STORE)
    except nats.js.errors.BucketNotFoundError:
        await bus.schema_js.create_object_store(
            MEDIA_STORE, config=ObjectStoreConfig(replicas=bus.replicas)
        )
        await until_led(bus.js, f"OBJ_{MEDIA_STORE}")
        return await bus.js.object_store(MEDIA_STORE)  # its reads: the usual timeout


async def set_limits(
    js: JetStreamContext, stream: str, *, max_age: float, max_bytes: int | None = None
) -> bool:
    """Give ``stream`` this max age (seconds) and, unless None, max bytes; 0 means
    no limit. Returns whether the config changed. Lowering a limit drops the
    messages beyond it at once, oldest first."""
    info = await js.stream_info(stream)
    current = info.config
    age_ns, current_age_ns = round(max_age * 1e9), round((current.max_age or 0) * 1e9)
    wanted = dataclasses.replace(current, max_age=max_age)
    changed = age_ns != current_age_ns
    if max_bytes is not None:
        wanted.max_bytes = max_bytes or -1
        changed |= wanted.max_bytes != (current.max_bytes or -1)
    if not changed:
        return False
    # The de-duplication window may not be longer than the max age.
    wanted.duplicate_window = min(
        current.duplicate_window or DUPLICATE_WINDOW, _duplicate_window(max_age)
    )
    try:
        await js.update_stream(wanted)
    except nats.js.errors.APIError as exc:
        raise _limit_error(stream, exc, max_bytes) from None
    log.info(
        "stream %s: max age %s s → %s s, max bytes %s → %s",
        stream,
        current.max_age or 0,
        max_age,
        current.max_bytes,
        wanted.max_bytes,
    )
    return True


async def create_bucket(
    js: JetStreamContext, name: str, *, history: int, ttl: float | None, replicas: int
) -> None:
    """Create a KV bucket's stream as nats-py's ``create_key_value`` does, but with
    message deletes allowed: erasure of personal data deletes each stored message
    securely (the server overwrites it on disk), and ``deny_delete`` cannot be
    lifted from a stream once it is set."""
    try:
        await js.add_stream(
            StreamConfig(
                name=f"KV_{name}",
                subjects=[f"$KV.{name}.>"],
                # No direct gets: reads of a key's latest value go to the stream's
                # leader (a follower of a replicated stream may answer a direct get
                # with an older value) and through promtour._kv's cheaper decoding,
                # which nats-py's direct-get path would bypass (+30 % CPU per scan
                # when this was True: docs/performance.md).
                allow_direct=False,
                allow_rollup_hdrs=True,
                allow_msg_ttl=True,
                deny_delete=False,
                discard=DiscardPolicy.NEW,
                duplicate_window=min(120.0, ttl) if ttl else 120.0,
                max_age=ttl,
                max_consumers=-1,
                max_msgs=-1,
                max_msgs_per_subject=history,
                num_replicas=replicas,
                storage=StorageType.FILE,
            )
        )
    except nats.js.errors.BadRequestError:
        # Another process created it meanwhile (with the same settings).
        pass
    await until_led(js, f"KV_{name}")


async def until_led(js: JetStreamContext, stream: str, timeout: float = SCHEMA_TIMEOUT) -> None:
    """Return once ``stream`` has a leader. A replicated stream just created on a
    loaded cluster has none for a moment, and a write to it then got "no responders"
    (the platform's first start on a fresh three-node cluster failed in CI)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = await js.stream_info(stream)
        if info.cluster is None or info.cluster.leader or loop.time() > deadline:
            return  # past the deadline the first write says what is wrong
        await asyncio.sleep(0.1)


def _duplicate_window(max_age: float) -> float:
    return min(DUPLICATE_WINDOW, max_age) if max_age else DUPLICATE_WINDOW


def _limit_error(stream: str, exc: nats.js.errors.APIError, max_bytes: int | None) -> Exception:
    """A server refusal of a stream's limits, as an error that names the setting."""
    if exc.err_code == 10047 and max_bytes:  # insufficient storage resources
        return PromtourError(
            f"stream {stream}: NATS cannot reserve {max_bytes} bytes for it "
            f"({exc.description}): lower nats.events_max_bytes or raise the server's "
            "jetstream max_file_store"
        )
    return exc
