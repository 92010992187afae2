"""Plugin event consumers: one durable pull consumer per plugin, explicit ack.

A handler that raises gets its event again after a back-off; after ``max_deliver``
attempts the message is terminated and reported (a log line, a counter and a
``plugin_event_failed`` event), so a poisoned message never blocks the plugin or
any other plugin. Each plugin reads at its own pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from promtour.bus import cancel_tasks
from promtour.context import PluginContext
from promtour.events import STREAM, SUBJECT_PREFIX, Event, PluginEventFailed
from promtour.manager import await_maybe

if TYPE_CHECKING:
    from promtour.platform import Platform

__all__ = ["ConsumerSettings", "HandledListener", "Outcome", "PluginConsumers"]

log = logging.getLogger("promtour.consumers")


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


class PluginConsumers:
    """Runs the consumer loop of every plugin that implements ``promtour_handle_event``."""

    def __init__(self, platform: Platform, settings: ConsumerSettings | None = None) -> None:
        self.platform = platform
        self.settings = settings or ConsumerSettings()
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: dict[str, nats.js.JetStreamContext.PullSubscription | None] = {}
        self._running = False
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
        hook = self.platform.plugins.pm.hook.promtour_handle_event
        return sorted({impl.plugin_name for impl in hook.get_hookimpls()})

    async def start(self) -> None:
        self._running = True
        for plugin in self.plugins():
            # Fail at start if the consumer cannot exist; the loop goes on with this one.
            self._subs[plugin] = await self._subscribe(plugin)
            self._tasks.append(asyncio.create_task(self._run(plugin), name=f"consumer-{plugin}"))

    async def stop(self) -> None:
        self._running = False
        await cancel_tasks(self._tasks)
        self._tasks.clear()

    async def _subscribe(self, plugin: str) -> nats.js.JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=durable_name(plugin),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.NEW,
            max_deliver=self.settings.max_deliver,
            ack_wait=self.settings.handler_timeout + 5,
            max_ack_pending=1000,
            filter_subject=f"{SUBJECT_PREFIX}.>",
        )
        return await self.platform.bus.js.pull_subscribe(
            f"{SUBJECT_PREFIX}.>",
            durable=durable_name(plugin),
            stream=STREAM,
            config=config,
        )

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
                try:
                    msgs = await sub.fetch(self.settings.batch, timeout=1.0)
                except nats.errors.TimeoutError:
                    # Silence: normal, but after a server restart a pull subscription can
                    # stay silent for good, so check the consumer now and then.
                    quiet += 1
                    if quiet >= 30:
                        quiet = 0
                        await self.platform.bus.js.consumer_info(STREAM, durable_name(plugin))
                    continue
                quiet = 0
                for msg in msgs:
                    await self._handle(plugin, msg)
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

    async def _handle(self, plugin: str, msg: Msg) -> None:
        platform = self.platform
        try:
            event = platform.events.decode(msg.data)
        except msgspec.DecodeError:
            # A type from a plugin that is not installed here, or garbage: not ours.
            await msg.ack()
            return
        state = await platform.tours.get(f"{event.enterprise}.{event.tour}")
        if state is None or plugin not in state.configs:
            await msg.ack()
            self._tell(plugin, event, "skipped")
            return
        handler = platform.plugins.impl_of("promtour_handle_event", plugin)
        assert handler is not None
        ctx = PluginContext(platform, plugin, state, visitor=event.visitor, group=event.group)
        try:
            await asyncio.wait_for(
                await_maybe(handler(event=event, ctx=ctx)), self.settings.handler_timeout
            )
        except Exception as exc:
            await self._failed(plugin, msg, event, exc)
            return
        await msg.ack()
        platform.metrics.inc("promtour_events_handled_total", plugin=plugin)
        self._tell(plugin, event, "handled")

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
