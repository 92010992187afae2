"""Plugin event consumers: one durable pull consumer per plugin, explicit ack.

A handler that raises gets its event again after a back-off; after ``max_deliver``
attempts the message is terminated and reported (a log line, a counter and a
``plugin_event_failed`` event), so a poisoned message never blocks the plugin or
any other plugin. Each plugin reads at its own pace. A plugin's events of one visitor
are handled in stream order; different visitors' events side by side.

A plugin that builds a read model (``PluginInfo.consume_from="first"``) starts at the
stream's first event. A plugin that implements ``promtour_handle_batch`` gets its
events in ordered batches: its consumer acknowledges all (``AckPolicy.ALL``, one ack
per batch) and lets one batch be pending at a time (``max_ack_pending`` = the batch
size), so batches are handled in stream order even with several processes consuming,
and a redelivered batch comes before anything newer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from promtour._bus import cancel_tasks
from promtour._context import PluginContext
from promtour._events import STREAM, SUBJECT_PREFIX, Event, PluginEventFailed, subject_for
from promtour._manager import await_maybe
from promtour._pull import ACK_WAIT, fetch_batch, stream_seq

if TYPE_CHECKING:
    from promtour._platform import Platform
    from promtour._tours import TourState

__all__ = [
    "ConsumerSettings",
    "HandledListener",
    "Outcome",
    "PluginConsumers",
    "StreamEvent",
]

log = logging.getLogger("promtour._consumers")


class ConsumerSettings(msgspec.Struct, kw_only=True):
    max_deliver: int = 5
    #: Seconds before the n-th redelivery (the last value repeats).
    backoff: list[float] = msgspec.field(default_factory=lambda: [0.5, 2.0, 5.0, 15.0])
    #: Seconds a handler may take.
    handler_timeout: float = 30.0
    batch: int = 64


#: What became of an event for one plugin: its handler returned (and the event was
#: acked), the tour does not use the plugin, or the last attempt failed (terminated).
Outcome = Literal["handled", "skipped", "failed"]
#: ``listener(plugin, event, outcome)``, called in the consumer's task after the ack.
HandledListener = Callable[[str, Event, Outcome], None]


def durable_name(plugin: str) -> str:
    return f"plugin_{plugin}"


class StreamEvent(msgspec.Struct, frozen=True):
    """One item of a ``promtour_handle_batch`` call."""

    #: The event's stream sequence: increasing, a checkpoint for a read model.
    seq: int
    event: Event
    #: The plugin's context for the event's tour (and visitor).
    ctx: PluginContext


class PluginConsumers:
    """Runs the consumer loop of every plugin that implements ``promtour_handle_event``."""

    def __init__(self, platform: Platform, settings: ConsumerSettings | None = None) -> None:
        self.platform = platform
        self.settings = settings or ConsumerSettings()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: dict[str, nats.js.JetStreamContext.PullSubscription | None] = {}
        self._running = False
        self._windows: dict[str, int] = {}
        #: Told of each event's final outcome per plugin. Tests wait on it (the harness
        #: of promtour.testing) instead of polling; empty, it costs nothing.
        self.listeners: list[HandledListener] = []

    def _tell(self, plugin: str, event: Event, outcome: Outcome) -> None:
        for listener in self.listeners:
            try:
                listener(plugin, event, outcome)
            except Exception:
                log.exception("consumer %s: a listener failed", plugin)

    def plugins(self) -> list[str]:
        hooks = self.platform.plugins.pm.hook
        return sorted(
            {impl.plugin_name for impl in hooks.promtour_handle_event.get_hookimpls()}
            | {impl.plugin_name for impl in hooks.promtour_handle_batch.get_hookimpls()}
        )

    def batched(self, plugin: str) -> bool:
        """Whether the plugin takes its events in batches (``promtour_handle_batch``)."""
        return self.platform.plugins.impl_of("promtour_handle_batch", plugin) is not None

    def _batch_size(self, plugin: str) -> int:
        info = self.platform.plugins.infos.get(plugin)
        return max(1, info.batch_size if info else self.settings.batch)

    async def start(self, only: list[str] | None = None) -> None:
        """Start the consumer loops (of the plugins in ``only``, else of all)."""
        self._running = True
        for plugin in self.plugins():
            if only is not None and plugin not in only:
                continue
            # Fail at start if the consumer cannot exist; the loop goes on with this one.
            self._subs[plugin] = await self._subscribe(plugin)
            self._tasks.append(asyncio.create_task(self._run(plugin), name=f"consumer-{plugin}"))

    async def stop(self) -> None:
        self._running = False
        await cancel_tasks(self._tasks)
        self._tasks.clear()

    async def reset(self, plugin: str) -> None:
        """Delete the plugin's durable consumer: the next subscription (of this or any
        running process) creates it again, from the stream's first event for a plugin
        that consumes from the first (a replay)."""
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.platform.bus.js.delete_consumer(STREAM, durable_name(plugin))

    async def progress(self, plugin: str) -> tuple[int, int]:
        """(stream sequence the plugin has handled up to, the stream's last sequence)."""
        js = self.platform.bus.js
        stream = await js.stream_info(STREAM)
        last = stream.state.last_seq
        try:
            info = await js.consumer_info(STREAM, durable_name(plugin))
        except nats.js.errors.NotFoundError:
            return 0, last
        done = info.ack_floor.stream_seq if info.ack_floor else 0
        if not info.num_pending and not info.num_ack_pending:
            done = last
        return done or 0, last

    def filters(self, plugin: str) -> list[str]:
        """The subjects of the plugin's consumer: the types it handles, else all."""
        info = self.platform.plugins.infos.get(plugin)
        tags = info.handled_tags() if info is not None else []
        return [subject_for("*", "*", tag) for tag in tags] or [f"{SUBJECT_PREFIX}.>"]

    async def _subscribe(self, plugin: str) -> nats.js.JetStreamContext.PullSubscription:
        info = self.platform.plugins.infos.get(plugin)
        first = info is not None and info.consume_from == "first"
        batched = self.batched(plugin)
        js = self.platform.bus.js
        name = durable_name(plugin)
        filters = self.filters(plugin)
        try:
            existing: ConsumerInfo | None = await js.consumer_info(STREAM, name)
        except nats.js.errors.NotFoundError:
            existing = None
        if existing is None:
            config = ConsumerConfig(
                name=name,
                durable_name=name,
                ack_policy=AckPolicy.ALL if batched else AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL if first else DeliverPolicy.NEW,
                max_deliver=self.settings.max_deliver,
                ack_wait=self.settings.handler_timeout + 5,
                max_ack_pending=self._batch_size(plugin) if batched else 1000,
                **_filter_fields(filters),
            )
            await js.add_consumer(STREAM, config)
        elif _filters_of(existing.config) != sorted(filters):
            # The plugin now handles other types (an upgrade): the durable consumer keeps
            # its place in the stream and takes the new subjects from here on.
            log.info("consumer %s: subjects now %s", plugin, ", ".join(filters))
            await js.add_consumer(STREAM, existing.config.evolve(**_filter_fields(filters)))
        sub = await js.pull_subscribe_bind(durable=name, stream=STREAM)
        if batched:
            # Ask for the consumer's whole window (as created, maybe by another process
            # with another batch size): a smaller request would leave room for another
            # process to take the next messages while this batch is handled.
            window = await sub.consumer_info()
            self._windows[plugin] = window.config.max_ack_pending or self._batch_size(plugin)
        return sub

    async def _run(self, plugin: str) -> None:
        try:
            await self._loop(plugin, self._subs.get(plugin))
        finally:
            # An abandoned pull subscription holds up the connection's drain at exit.
            sub = self._subs.pop(plugin, None)
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _loop(
        self, plugin: str, sub: nats.js.JetStreamContext.PullSubscription | None
    ) -> None:
        quiet = 0
        while self._running:
            try:
                if sub is None:
                    sub = self._subs[plugin] = await self._subscribe(plugin)
                size = self._windows.get(plugin, 1) if self.batched(plugin) else self.settings.batch
                try:
                    if self.batched(plugin):
                        msgs = await fetch_batch(sub, size, timeout=1.0)
                    else:
                        msgs = await self._fetch(sub, size)
                except TimeoutError:
                    # (nats.errors.TimeoutError, or the plain one nats-py's fetch raises
                    # when its deadline passed between two steps: both mean no messages.)
                    # Silence: normal, but after a server restart a pull subscription can
                    # stay silent for good, so check the consumer now and then.
                    quiet += 1
                    if quiet >= 30:
                        quiet = 0
                        await self.platform.bus.js.consumer_info(STREAM, durable_name(plugin))
                    continue
                quiet = 0
                if self.batched(plugin):
                    await self._handle_batch(plugin, msgs)
                    continue
                await self._handle_lanes(plugin, msgs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "consumer %s: %s; resubscribing", plugin, str(exc) or type(exc).__name__
                )
                if sub is not None:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
                sub = self._subs[plugin] = None
                await asyncio.sleep(1.0)

    @staticmethod
    async def _fetch(sub: nats.js.JetStreamContext.PullSubscription, size: int) -> list[Msg]:
        """The events waiting for a plugin, or the next one to come (within a second).

        What is waiting comes through :func:`fetch_batch` (nats-py's fetch spends a task
        and a timer on each message); when nothing is, nats-py's fetch leaves a request
        on the server that hands over the next event as soon as it is stored."""
        try:
            return await fetch_batch(sub, size, timeout=1.0, idle_poll=0)
        except TimeoutError:
            return await sub.fetch(size, timeout=1.0)

    async def _handle_lanes(self, plugin: str, msgs: list[Msg]) -> None:
        """Handle fetched events one visitor at a time, visitors side by side.

        A visitor's events (else a group's, else the tour's) are handled in stream
        order; different visitors' events concurrently. Handled one after another, each
        event's NATS requests went out alone, a socket write and a wake-up of the
        server each; side by side they share writes, which made a consumer that had
        fallen behind several times cheaper per event (docs/performance.md). Several
        processes consuming the same plugin already interleave visitors, so a handler
        never relied on one event at a time."""
        lanes: dict[str, list[tuple[Msg, Event]]] = {}
        finished: set[int] = set()  # id() of the messages acked, naked or terminated
        for msg in msgs:
            try:
                event = self.platform.events.decode(msg.data)
            except msgspec.DecodeError:
                # A type from a plugin that is not installed here, or garbage: not ours.
                await msg.ack()
                finished.add(id(msg))
                continue
            lane = event.visitor or (f"group {event.group}" if event.group else "")
            lanes.setdefault(lane, []).append((msg, event))

        async def run(lane: list[tuple[Msg, Event]]) -> None:
            for msg, event in lane:
                await self._handle(plugin, msg, event)
                finished.add(id(msg))

        try:
            if len(lanes) == 1:
                await run(next(iter(lanes.values())))
            elif lanes:
                # Every lane ends before the loop goes on (an ack that failed in one lane
                # must not leave the others running beside the next fetch).
                outcomes = await asyncio.gather(
                    *(run(lane) for lane in lanes.values()), return_exceptions=True
                )
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
        except asyncio.CancelledError:
            # A stopping process hands back what it fetched and did not finish: another
            # process gets it now, not after the ack timeout (handler_timeout + 5 s).
            # Shielded: the stop repeats its cancel until the task has ended.
            unfinished = [msg for msg in msgs if id(msg) not in finished]
            if unfinished:
                await asyncio.shield(
                    asyncio.gather(*(msg.nak() for msg in unfinished), return_exceptions=True)
                )
            raise

    async def _handle(self, plugin: str, msg: Msg, event: Event) -> None:
        platform = self.platform
        state = await platform.tours.get(f"{event.enterprise}.{event.tour}")
        if state is None or plugin not in state.configs:
            await msg.ack()
            self._tell(plugin, event, "skipped")
            return
        handler = platform.plugins.impl_of("promtour_handle_event", plugin)
        assert handler is not None
        ctx = PluginContext(platform, plugin, state, visitor=event.visitor, group=event.group)
        try:
            # asyncio.timeout, not wait_for: no task per event.
            async with asyncio.timeout(self.settings.handler_timeout):
                await await_maybe(handler(event=event, ctx=ctx))
        except Exception as exc:
            await self._failed(plugin, msg, event, exc)
            return
        await msg.ack()
        platform.metrics.inc("promtour_events_handled_total", plugin=plugin)
        self._tell(plugin, event, "handled")

    async def _handle_batch(self, plugin: str, msgs: list[Msg]) -> None:
        platform = self.platform
        items: list[tuple[Msg, StreamEvent]] = []
        states: dict[str, TourState | None] = {}
        skipped: list[Event] = []
        contexts: dict[tuple[str, str | None, str | None], PluginContext] = {}
        for msg in msgs:
            try:
                event = platform.events.decode(msg.data)
            except msgspec.DecodeError:
                continue  # not ours (see _handle); acked with the batch
            key = f"{event.enterprise}.{event.tour}"
            if key not in states:
                state = await platform.tours.get(key)
                states[key] = state if state is not None and plugin in state.configs else None
            tour = states[key]
            if tour is None:
                skipped.append(event)
                continue
            who = (key, event.visitor, event.group)
            ctx = contexts.get(who)
            if ctx is None:
                ctx = contexts[who] = PluginContext(
                    platform, plugin, tour, visitor=event.visitor, group=event.group
                )
            items.append((msg, StreamEvent(stream_seq(msg), event, ctx)))
        handler = platform.plugins.impl_of("promtour_handle_batch", plugin)
        assert handler is not None
        try:
            if items:
                await asyncio.wait_for(
                    await_maybe(handler(batch=[item for _, item in items])),
                    self.settings.handler_timeout,
                )
        except asyncio.CancelledError:
            # A stopping platform hands the batch back now, not after ``ack_wait``.
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak()
            raise
        except Exception as exc:
            deliveries = msgs[0].metadata.num_delivered or 1
            if deliveries < self.settings.max_deliver - 1:
                delay = self.settings.backoff[min(deliveries - 1, len(self.settings.backoff) - 1)]
                log.warning(
                    "plugin %s failed on a batch of %d (attempt %d): %s",
                    plugin,
                    len(msgs),
                    deliveries,
                    f"{type(exc).__name__}: {exc}",
                )
                for msg in msgs:
                    await msg.nak(delay=delay)
                platform.metrics.inc("promtour_events_retried_total", plugin=plugin)
                return
            # Before giving up, one event at a time: only the poisoned one is lost.
            await self._one_by_one(plugin, msgs, items, handler)
            return
        await self._ack_batch(plugin, msgs[-1])
        platform.metrics.inc("promtour_events_handled_total", len(items), plugin=plugin)
        for _, item in items:
            self._tell(plugin, item.event, "handled")
        for event in skipped:
            self._tell(plugin, event, "skipped")

    async def _ack_batch(self, plugin: str, last: Msg) -> None:
        """Acknowledge a handled batch (``AckPolicy.ALL``: its last message acks all)
        and wait for the server to have taken the ack. A plain ack raced the next pull
        request: the server, its window still full, answered "no messages" and the
        consumer slept :data:`IDLE_POLL`, most of a replay's time. A lost confirmation
        is harmless: the ack was sent, and at worst the batch comes again (a batch
        handler is idempotent per event)."""
        try:
            await last.ack_sync(timeout=ACK_WAIT)
        except (TimeoutError, nats.errors.TimeoutError):
            log.warning("consumer %s: the server did not confirm a batch's ack", plugin)

    async def _one_by_one(
        self, plugin: str, msgs: list[Msg], items: list[tuple[Msg, StreamEvent]], handler: Any
    ) -> None:
        for msg, item in items:
            try:
                await asyncio.wait_for(
                    await_maybe(handler(batch=[item])), self.settings.handler_timeout
                )
            except Exception as exc:
                # With AckPolicy.ALL a later ack would cover this message: terminate it.
                await self._give_up(plugin, msg, item.event, exc)
                continue
            await msg.ack()
            self._tell(plugin, item.event, "handled")
        await msgs[-1].ack()

    async def _failed(self, plugin: str, msg: Msg, event: object, exc: Exception) -> None:
        deliveries = msg.metadata.num_delivered or 1
        error = f"{type(exc).__name__}: {exc}"
        platform = self.platform
        if deliveries < self.settings.max_deliver:
            delay = self.settings.backoff[min(deliveries - 1, len(self.settings.backoff) - 1)]
            log.warning(
                "plugin %s failed on %s (attempt %d): %s", plugin, msg.subject, deliveries, error
            )
            await msg.nak(delay=delay)
            platform.metrics.inc("promtour_events_retried_total", plugin=plugin)
            return
        await self._give_up(plugin, msg, event, exc)

    async def _give_up(self, plugin: str, msg: Msg, event: object, exc: Exception) -> None:
        deliveries = msg.metadata.num_delivered or 1
        error = f"{type(exc).__name__}: {exc}"
        platform = self.platform
        log.error(
            "plugin %s gave up on %s after %d attempts: %s", plugin, msg.subject, deliveries, error
        )
        await msg.term()
        platform.metrics.inc("promtour_events_terminated_total", plugin=plugin)
        if isinstance(event, Event):
            self._tell(plugin, event, "failed")

        if isinstance(event, Event) and not isinstance(event, PluginEventFailed):
            report = PluginEventFailed(
                enterprise=event.enterprise,
                tour=event.tour,
                station=event.station,
                plugin=plugin,
                failed_event_id=event.id,
                failed_type=event.type,
                deliveries=deliveries,
                error=error[:500],
            )
            try:
                await platform.bus.publish(report)
            except Exception:
                log.exception("could not report the failure of plugin %s", plugin)


def _filter_fields(filters: list[str]) -> dict[str, Any]:
    """A consumer's subjects as its config holds them (one, or a list of several)."""
    if len(filters) == 1:
        return {"filter_subject": filters[0], "filter_subjects": None}
    return {"filter_subject": None, "filter_subjects": filters}


def _filters_of(config: ConsumerConfig) -> list[str]:
    return sorted(
        config.filter_subjects or ([config.filter_subject] if config.filter_subject else [])
    )
