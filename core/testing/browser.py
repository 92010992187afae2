"""Browser fixtures for promtour tests: opt in with
``pytest_plugins = ["promtour.testing", "promtour.testing.browser"]``.

- ``browser``: one headless Chromium per session (Debian's ``/usr/bin/chromium``, or
  ``$PROMTOUR_CHROMIUM``), driven by Playwright's sync API;
- ``phone``: ``phone(locale="ru-RU")``, a new phone-sized browser context.

A page in a browser needs a real server: use ``serve_app`` (uvicorn in a thread of its
own) or ``harness.serve()``, not the harness's in-process client. The fixtures are a
separate plugin because they need Playwright and patch pytest's run phases (see
:func:`_playwright_loop_lifted`), which a plugin's non-browser tests should not pay for.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "PHONE", "chromium_available", "wait_for_js"]

CHROMIUM = os.environ.get("PROMTOUR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session. Skips where Chromium is absent, except
    under CI (``CI=true``), where a missing browser is a failure."""
    if not chromium_available():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: CI must install it")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        loop = asyncio._get_running_loop()
        try:
            yield chromium
        finally:
            # The session may end in an async test's teardown, with the mark lifted.
            if loop is not None and asyncio._get_running_loop() is None:
                asyncio._set_running_loop(loop)
            chromium.close()


@contextmanager
def _playwright_loop_lifted(item: pytest.Item) -> Iterator[None]:
    """Playwright's sync API runs its event loop in a greenlet and leaves it marked as
    this thread's running loop between calls; pytest-asyncio then refuses to run an
    async test or fixture, and ``asyncio.run`` fails. Around each phase of a test that
    does not use the browser (so makes no Playwright calls) the mark is lifted, then
    put back for the browser tests."""
    loop = None if "browser" in getattr(item, "fixturenames", ()) else asyncio._get_running_loop()
    if loop is not None:
        asyncio._set_running_loop(None)
    try:
        yield
    finally:
        if loop is not None and not loop.is_closed():
            asyncio._set_running_loop(loop)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    with _playwright_loop_lifted(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    with _playwright_loop_lifted(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    with _playwright_loop_lifted(item):
        return (yield)


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def phone(browser: Any) -> Iterator[Callable[..., Any]]:
    """``phone(locale="ru-RU")``: a new phone-sized browser context (own cookies)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**{**PHONE, **options})
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def wait_for_js(page: Any, expression: str, *, timeout: float = 30_000) -> Any:
    """Poll ``expression`` in ``page`` until it is truthy; returns its value.

    In place of Playwright's ``page.wait_for_function``, which compiles the expression
    with ``new Function`` inside the page: the app's CSP (no ``unsafe-eval``) refuses
    that, while ``page.evaluate`` goes through DevTools and is not subject to it."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)
