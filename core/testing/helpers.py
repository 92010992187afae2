"""Plain helpers of ``promtour.testing`` (no fixtures): settings and platforms for a
test, set-up from sync browser tests, forms and the event stream as a test reads them.

They exist once here because promtour's own tests and bench scripts wrote each of
them several times; they are re-exported from :mod:`promtour.testing`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from promtour._bus import Bus
from promtour._consumers import ConsumerSettings
from promtour._events import STREAM, subject_for
from promtour._manager import PluginManager
from promtour._models import Tour
from promtour._platform import Platform
from promtour._settings import Settings, load_settings

__all__ = [
    "console_sign_in",
    "csrf_token",
    "import_demo_in_thread",
    "new_platform",
    "read_events",
    "run_in_thread",
    "running_platform",
    "test_settings",
    "with_platform",
]

T = TypeVar("T")

#: The hidden field every form of the web app carries (core pages, console, plugins).
_CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]*)"')


def test_settings(nats_url: str, **overrides: Any) -> Settings:
    """Settings for a test platform on ``nats_url``, with ``overrides`` as in a
    settings file; the environment is not read. The plugin timeout is longer than in
    production (5 s, not 2): a panel's first render on a loaded 2-core CI machine, with
    Chromium and another test process beside it, took more than 1 s, and a test
    that checks a page is not a speed test (a test of the timeout sets its own)."""
    base: dict[str, Any] = {"nats": {"url": nats_url}, "plugin_timeout": 5.0}
    base.update(overrides)
    return load_settings(environ={}, **base)


# A helper, not a test, though its name starts with test_.
test_settings.__test__ = False  # type: ignore[attr-defined]


def new_platform(
    nats_url: str,
    *,
    plugins: Iterable[tuple[str, object]] = (),
    entrypoints: bool = True,
    consumer_settings: ConsumerSettings | None = None,
    **settings: Any,
) -> Platform:
    """A platform (not started) as ``make_platform`` and ``serve_app`` build it."""
    return Platform(
        test_settings(nats_url, **settings),
        plugins=PluginManager(load_entrypoints=entrypoints, plugins=plugins),
        consumer_settings=consumer_settings,
    )


@asynccontextmanager
async def running_platform(nats_url: str, **options: Any) -> AsyncIterator[Platform]:
    """A platform started without consumers for set-up work (save tours, make tokens,
    write records), stopped on leaving; ``options`` as :func:`new_platform`'s."""
    platform = new_platform(nats_url, **options)
    await platform.start(consumers=False)
    try:
        yield platform
    finally:
        await platform.stop()


def run_in_thread(coro: Coroutine[Any, Any, T], *, timeout: float = 60) -> T:
    """Run ``coro`` to its end on an event loop of its own in a worker thread and return
    its result (or raise its exception). For sync (browser) tests: Playwright's sync API
    owns the test thread's event loop, so ``asyncio.run`` cannot run there."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout)


def with_platform(
    nats_url: str,
    work: Callable[[Platform], Awaitable[T]],
    *,
    plugins: Iterable[tuple[str, object]] = (),
    entrypoints: bool = True,
) -> T:
    """``work(platform)`` on a platform of its own (started without consumers, stopped
    after), run with :func:`run_in_thread`: how a sync browser test saves its tours,
    tokens or records before it opens pages, e.g.
    ``tour = with_platform(nats_url, lambda p: save_new_tour(p, plugins={...}))``."""

    async def run() -> T:
        async with running_platform(nats_url, plugins=plugins, entrypoints=entrypoints) as p:
            return await work(p)

    return run_in_thread(run())


def import_demo_in_thread(nats_url: str) -> list[str]:
    """Import the demo enterprise and tour from a thread of its own; returns the tour
    keys. For sync (browser) tests: Playwright owns the test thread's event loop."""
    from promtour._server import import_demo

    return with_platform(nats_url, import_demo)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page (the hidden ``_csrf`` field), to post
    a form as the browser would; fails the test if the page has no form with one."""
    match = _CSRF_FIELD.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def console_sign_in(client: httpx.AsyncClient, secret: str) -> str:
    """Sign a browser-like client (it keeps cookies) in to the console with a token's
    secret; returns the CSRF token for the console's forms."""
    page = await client.get("/console/login")
    token = csrf_token(page.text)
    done = await client.post("/console/login", data={"token": secret, "_csrf": token})
    assert done.status_code == 303, done.text
    return token


async def read_events(bus: Bus, tour: Tour, event_type: str = ">") -> list[bytes]:
    """Every stored event of ``tour`` (of one type, by its tag), oldest first, as the
    raw JSON of the stream's messages."""
    subject = subject_for(tour.enterprise, tour.id, event_type)
    info = await bus.js.stream_info(STREAM, subjects_filter=subject)
    count = sum((info.state.subjects or {}).values())
    if not count:
        return []
    sub = await bus.js.subscribe(subject, stream=STREAM, ordered_consumer=True)
    try:
        return [(await sub.next_msg(timeout=5)).data for _ in range(count)]
    finally:
        await sub.unsubscribe()
