"""The ``harness`` fixture: one promtour platform per test, with an in-process client.

In the spirit of pytest's ``pytester`` and datasette's test client: a plugin's test
says what a user would do (make a tour with the plugin, scan a station, publish an
event) and checks what they would see (the page, the plugin's store, the stream),
without servers, threads or polling loops. The platform runs on the session's real
nats-server; the web app runs in the test's own event loop (httpx's ASGI
transport; no uvicorn thread), and the plugins' consumers run in that loop too, so
:meth:`Harness.handled` can wait for a handler to return instead of sleeping.

Which plugins: the ``promtour_plugins`` fixture (a plugin's ``conftest.py`` overrides
it) lists modules or objects, or ``(name, plugin)`` pairs. Installed plugins are not
loaded from entry points unless asked (``harness.start(entrypoints=True)``); when they
are, a plugin listed here replaces the installed plugin of the same name (see
:class:`promtour._manager.PluginManager`), so a pip-installed plugin under test is never
registered twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import httpx
from promtour._consumers import ConsumerSettings, Outcome
from promtour._context import PluginContext
from promtour._events import Event, tag_of
from promtour._manager import PluginManager
from promtour._models import Tour
from promtour._platform import Platform
from promtour._settings import Settings
from promtour._store import PluginStore
from promtour._tokens import sign_station
from promtour.testing.helpers import read_events

__all__ = ["Harness", "plugin_entries"]

E = TypeVar("E", bound=Event)

#: Seconds :meth:`Harness.handled` waits before it fails the test.
HANDLED_TIMEOUT = 10.0


def plugin_entries(plugins: Iterable[object]) -> list[tuple[str, object]]:
    """``(name, plugin)`` pairs; a bare plugin is named by its ``promtour_plugin_info``."""
    entries: list[tuple[str, object]] = []
    for plugin in plugins:
        if isinstance(plugin, tuple):
            entries.append((str(plugin[0]), plugin[1]))
            continue
        info = getattr(plugin, "promtour_plugin_info", None)
        if info is None:
            raise TypeError(f"{plugin!r} has no promtour_plugin_info: pass (name, plugin)")
        entries.append((info().name, plugin))
    return entries


class Harness:
    """One platform for one test: tours, scans, events, stores and the stream.

    Made by the ``harness`` fixture; it starts on first use with the plugins of the
    ``promtour_plugins`` fixture, or explicitly with :meth:`start`."""

    def __init__(
        self, settings: Settings, plugins: Sequence[object] = (), *, tour_factory: Any
    ) -> None:
        self._settings = settings
        self._plugins = list(plugins)
        self._new_tour = tour_factory
        self._stack = AsyncExitStack()
        self._platform: Platform | None = None
        self._client: httpx.AsyncClient | None = None
        self._app: Any = None
        self._entrypoints = False
        #: ``(plugin, event, outcome)`` of every event the consumers finished with.
        self.outcomes: list[tuple[str, Event, Outcome]] = []
        self._changed = asyncio.Event()

    # --- life cycle ---------------------------------------------------------------------

    async def start(
        self,
        *plugins: object,
        entrypoints: bool = False,
        consumers: bool = True,
        consumer_settings: ConsumerSettings | None = None,
    ) -> Harness:
        """Start the platform with ``plugins`` (default: the ``promtour_plugins``
        fixture's). ``entrypoints=True`` also loads the installed plugins."""
        if self._platform is not None:
            raise RuntimeError("the harness is started already")
        self._plugins = list(plugins or self._plugins)
        self._entrypoints = entrypoints
        manager = PluginManager(load_entrypoints=entrypoints, plugins=plugin_entries(self._plugins))
        platform = Platform(self._settings, plugins=manager, consumer_settings=consumer_settings)
        platform.consumers.listeners.append(self._heard)
        await platform.start(consumers=consumers)
        self._stack.push_async_callback(platform.stop)
        self._platform = platform
        return self

    async def close(self) -> None:
        await self._stack.aclose()

    async def _started(self) -> Platform:
        if self._platform is None:
            await self.start()
        assert self._platform is not None
        return self._platform

    @property
    def platform(self) -> Platform:
        """The platform (private core: for promtour's own tests, not for plugins')."""
        if self._platform is None:
            raise RuntimeError("the harness is not started: await harness.start() first")
        return self._platform

    # --- visitors -----------------------------------------------------------------------

    async def client(self) -> httpx.AsyncClient:
        """The test's visitor: an in-process client of the web app (it keeps cookies)."""
        if self._client is None:
            self._client = await self.visitor()
        return self._client

    async def visitor(self) -> httpx.AsyncClient:
        """A new visitor (own cookies) on the same app; closed with the harness."""
        from promtour._web.app import create_app

        platform = await self._started()
        if self._app is None:
            self._app = create_app(platform, manage_platform=False)
        # httpx's ASGI transport calls the app in this loop (litestar's AsyncTestClient
        # runs it in a portal thread, away from the platform's NATS connection).
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app, client=("127.0.0.1", 50000)),
            base_url="http://127.0.0.1",
        )
        return await self._stack.enter_async_context(client)

    def station_path(self, tour: Tour, station: str) -> str:
        """The path a station's QR code points to (``/s/<signed code>``)."""
        return f"/s/{sign_station(tour, station)}"

    async def scan(
        self,
        tour: Tour,
        station: str,
        *,
        lang: str | None = None,
        visitor: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """Scan a station's code as a visitor (default: :meth:`client`) and follow to the
        page; ``lang`` is sent as the browser's ``Accept-Language``."""
        client = visitor or await self.client()
        headers = {"Accept-Language": lang} if lang else {}
        return await client.get(
            self.station_path(tour, station), headers=headers, follow_redirects=True
        )

    async def get(self, path: str, *, lang: str | None = None) -> httpx.Response:
        """A GET of any page or plugin route (``/p/<plugin>/...``) as :meth:`client`."""
        headers = {"Accept-Language": lang} if lang else {}
        return await (await self.client()).get(path, headers=headers, follow_redirects=True)

    # --- tours --------------------------------------------------------------------------

    async def tour(
        self, plugins: dict[str, dict[str, Any]] | None = None, *, stations: int = 3, **fields: Any
    ) -> Tour:
        """A new enterprise and tour (stations ``s1``..``sN``) with ``plugins`` enabled,
        each with its config table (``{"hello": {"greeting": {...}}}``). A config the
        plugin refuses raises :class:`promtour.plugin.ConfigError` naming the key."""
        platform = await self._started()
        tour: Tour = await self._new_tour(platform, plugins=plugins, stations=stations, **fields)
        return tour

    def context(self, plugin: str, tour: Tour, *, visitor: str | None = None) -> PluginContext:
        """The plugin's context for a tour, as its handlers get it."""
        state = self.platform.tours.cached(tour.key)
        if state is None:
            raise LookupError(f"no tour {tour.key}")
        return PluginContext(self.platform, plugin, state, visitor=visitor)

    # --- stores -------------------------------------------------------------------------

    def store(self, plugin: str) -> PluginStore:
        """The plugin's whole store (``ctx.store``)."""
        return self.platform.store_for(plugin)

    def tour_store(self, plugin: str, tour: Tour) -> PluginStore:
        """The plugin's records of one tour (``ctx.tour_store``)."""
        return self.store(plugin).for_tour(tour.key)

    # --- events -------------------------------------------------------------------------

    async def publish(self, event: Event) -> int:
        """Store an event in the stream as the core or a plugin would; its sequence."""
        platform = await self._started()
        return await platform.bus.publish(event)

    async def events(self, tour: Tour, type_: type[E] | None = None) -> list[Event]:
        """The stream's events of a tour, oldest first (only ``type_`` if given)."""
        platform = await self._started()
        tag = tag_of(type_) if type_ is not None else ">"
        stored = await read_events(platform.bus, tour, tag)
        return [platform.events.decode(data) for data in stored]

    def _heard(self, plugin: str, event: Event, outcome: Outcome) -> None:
        self.outcomes.append((plugin, event, outcome))
        self._changed.set()

    def _outcomes(
        self, plugin: str, what: Event | str | type[Event], tour: Tour | None
    ) -> list[Outcome]:
        return [
            outcome
            for name, event, outcome in self.outcomes
            if name == plugin
            and _is(event, what)
            and (tour is None or (event.enterprise, event.tour) == (tour.enterprise, tour.id))
        ]

    async def handled(
        self,
        plugin: str,
        what: Event | str | type[Event],
        *,
        count: int = 1,
        tour: Tour | None = None,
        timeout: float = HANDLED_TIMEOUT,
    ) -> list[Outcome]:
        """Wait until ``plugin``'s consumer is done with an event: ``what`` is the event
        (or its id), or an event type and then ``count`` events of it (of ``tour`` if
        given). Returns the outcomes, in order: ``"handled"`` (the handler returned),
        ``"skipped"`` (the tour does not use the plugin) or ``"failed"`` (gave up after
        the last attempt). Fails with :class:`TimeoutError` after ``timeout`` seconds.

        No polling: the consumer tells the harness after each event's ack. An event type
        the plugin does not handle (``PluginInfo.handles``) never reaches its consumer:
        asking for one raises :class:`ValueError` at once."""
        platform = await self._started()
        info = platform.plugins.infos.get(plugin)
        tags = info.handled_tags() if info is not None else []
        tag = what.type if isinstance(what, Event) else None
        if isinstance(what, type):
            tag = tag_of(what)
        if tags and tag is not None and tag not in tags:
            raise ValueError(f"plugin {plugin!r} does not handle {tag!r} events (its handles)")
        async with asyncio.timeout(timeout):
            while len(found := self._outcomes(plugin, what, tour)) < count:
                self._changed.clear()
                await self._changed.wait()
        return found


def _is(event: Event, what: Event | str | type[Event]) -> bool:
    if isinstance(what, str):
        return event.id == what
    if isinstance(what, Event):
        return event.id == what.id
    return isinstance(event, what)
